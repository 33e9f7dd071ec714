import { timingSafeEqual } from 'node:crypto';
import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { AutoDeployService, type DeploymentDecision } from '@apprunner/auto-deploy';
import { AuthenticationError, InvalidRequestException, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { parseRegistryNotification } from '@apprunner/registry';

/**
 * The registry's notifications endpoint (CNCF distribution format): a push of a tag deploys the image services that
 * track it, by digest, once per event and once per digest. Registries send `Authorization: Bearer <token>` from their
 * endpoint configuration (`notifications.endpoints[].headers`).
 */
@Controller('registry')
export class RegistryController {
  constructor(
    private readonly autoDeploy: AutoDeployService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Post('notifications')
  @HttpCode(202)
  async notifications(@Req() req: Request & { rawBody?: Buffer }): Promise<{ events: number; deployments: DeploymentDecision[] }> {
    const token = this.config.REGISTRY_WEBHOOK_TOKEN;
    if (!token) throw new InvalidRequestException('Registry notifications are not configured on this platform (REGISTRY_WEBHOOK_TOKEN).');
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthenticationError('UnrecognizedClientException', 'The registry notification token is invalid.');
    }
    let body: unknown;
    try {
      body = JSON.parse((req.rawBody ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      throw new InvalidRequestException('The notification body is not JSON.');
    }
    const events = parseRegistryNotification(body);
    const deployments: DeploymentDecision[] = [];
    for (const e of events) {
      if (!(await this.autoDeploy.firstDelivery('registry', e.id))) continue;
      deployments.push(...(await this.autoDeploy.onImagePushed(e, 'registry-push')));
    }
    return { events: events.length, deployments };
  }
}
