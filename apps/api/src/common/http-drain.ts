import type { Server } from 'node:http';
import { Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';

/**
 * Shutdown of the HTTP side: the requests in flight finish, and no connection outlives them. Nest closes the server
 * after this hook; without it, a keep-alive connection (idle, or idle after its last response) would hold the close
 * open until its keep-alive timeout. From here on every response closes its connection, and idle ones are closed.
 */
@Injectable()
export class HttpDrain implements BeforeApplicationShutdown, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(private readonly adapter: HttpAdapterHost) {}

  beforeApplicationShutdown(): void {
    const server = this.adapter.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server?.listening) return;
    server.on('request', (_req, res) => res.setHeader('connection', 'close'));
    server.closeIdleConnections();
    this.timer = setInterval(() => server.closeIdleConnections(), 100);
    this.timer.unref();
    server.once('close', () => clearInterval(this.timer));
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}
