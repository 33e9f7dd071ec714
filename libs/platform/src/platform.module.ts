import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Clock, PLATFORM_CONFIG, type PlatformConfig, SystemClock } from '@apprunner/core';
import { PERSISTENCE_PROVIDERS } from '@apprunner/persistence';
import { TerminusModule } from '@nestjs/terminus';
import { PeriodicLock, ReconcileQueue } from '@apprunner/queue';
import { PlatformHealth } from './health';

/** Process-wide infrastructure shared by the API and the worker: configuration, clock, database, queue. */
@Global()
@Module({})
export class PlatformModule {
  static forRoot(config: PlatformConfig, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: PlatformModule,
      imports: [TerminusModule.forRoot({ logger: false })],
      providers: [
        { provide: PLATFORM_CONFIG, useValue: config },
        { provide: Clock, useValue: clock },
        ...PERSISTENCE_PROVIDERS,
        ReconcileQueue,
        PeriodicLock,
        PlatformHealth,
      ],
      exports: [PLATFORM_CONFIG, Clock, ...PERSISTENCE_PROVIDERS, ReconcileQueue, PeriodicLock, PlatformHealth],
    };
  }
}
