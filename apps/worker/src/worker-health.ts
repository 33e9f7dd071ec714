import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  Optional,
  ServiceUnavailableException,
} from '@nestjs/common';
import { PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { KUBE_CLIENT, type KubeClient } from '@apprunner/kubernetes';
import { PlatformHealth } from '@apprunner/platform';
import { ReconcileConsumer } from './reconcile.consumer';

/**
 * The worker's probes (terminus), on WORKER_HEALTH_PORT: `/healthz` is live while its queue consumer runs (a worker
 * whose consumer stopped is restarted); `/readyz` needs PostgreSQL, Redis and the Kubernetes API.
 */
@Injectable()
export class WorkerHealthServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(WorkerHealthServer.name);
  private server?: Server;

  constructor(
    private readonly health: PlatformHealth,
    private readonly consumer: ReconcileConsumer,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @Optional() @Inject(KUBE_CLIENT) private readonly kube: KubeClient | null = null,
  ) {}

  /** The bound port (tests ask for port 0). */
  get port(): number | undefined {
    return (this.server?.address() as AddressInfo | null)?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.WORKER_HEALTH_PORT === undefined) return;
    this.server = createServer((req, res) => {
      void this.answer(req.url ?? '/').then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(this.config.WORKER_HEALTH_PORT, this.config.HOST, resolve));
    this.logger.log(`health endpoints on port ${this.port}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async answer(url: string): Promise<{ status: number; body: unknown }> {
    const path = url.split('?')[0];
    if (path === '/healthz') {
      return this.consumer.running()
        ? { status: 200, body: { status: 'ok' } }
        : { status: 503, body: { status: 'error', error: 'the queue consumer is not running' } };
    }
    if (path !== '/readyz') return { status: 404, body: { status: 'error', error: 'not found' } };
    try {
      const kube = this.kube;
      return { status: 200, body: await this.health.readiness(kube ? [this.health.indicator('kubernetes', () => kube.version())] : []) };
    } catch (e) {
      if (e instanceof ServiceUnavailableException) return { status: 503, body: e.getResponse() };
      return { status: 500, body: { status: 'error', error: (e as Error).message } };
    }
  }
}
