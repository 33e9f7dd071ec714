import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { type Clock, type PlatformConfig } from '@apprunner/core';
import { ApplicationModule, PlatformModule } from '@apprunner/platform';
import { ActionDispatcher } from './actions/action-dispatcher';
import { AuditService } from './actions/audit.service';
import { AdminController, AdminGuard, NetworksAdminController } from './admin/admin.controller';
import { AwsJsonController } from './aws/aws-json.controller';
import { ErrorFilter } from './common/error.filter';
import { HttpDrain } from './common/http-drain';
import { DocsController } from './docs.controller';
import { OutboxSweeper } from './outbox.sweeper';
import { ApiKeyAuthenticator } from './rest/api-key';
import { RestController } from './rest/rest.controller';
import { SourceController } from './rest/source.controller';
import { GitHubController } from './webhooks/github.controller';
import { RegistryController } from './webhooks/registry.controller';
import { BuildLogStore } from '@apprunner/build';

@Module({})
export class ApiModule {
  static forRoot(config: PlatformConfig, clock?: Clock): DynamicModule {
    return {
      module: ApiModule,
      imports: [PlatformModule.forRoot(config, clock), ApplicationModule],
      // SourceController before RestController: its /v1 routes are not App Runner actions.
      controllers: [
        AwsJsonController,
        AdminController,
        NetworksAdminController,
        DocsController,
        SourceController,
        RestController,
        GitHubController,
        RegistryController,
      ],
      providers: [
        ActionDispatcher,
        ApiKeyAuthenticator,
        BuildLogStore,
        AuditService,
        AdminGuard,
        OutboxSweeper,
        HttpDrain,
        { provide: APP_FILTER, useClass: ErrorFilter },
      ],
    };
  }
}
