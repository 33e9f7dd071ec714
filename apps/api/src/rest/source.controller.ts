import { Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidRequestException } from '@apprunner/core';
import { ConnectionService } from '@apprunner/connection';
import { BuildRepository, OperationRepository } from '@apprunner/persistence';
import { BuildLogStore } from '@apprunner/build';
import { notFound } from '@apprunner/tenancy';
import { toRestJson } from '../common/wire';
import { ApiKeyAuthenticator } from './api-key';

/** How long a followed log stream waits between reads, and at most in all (clients reconnect with `after`). */
const FOLLOW_POLL_MS = 300;
const FOLLOW_MAX_MS = 15 * 60_000;

/**
 * REST endpoints beyond App Runner's actions, for code-based services: the connection handshake (App Runner's
 * console step "Complete handshake") and build logs per operation (App Runner's "deployment logs").
 */
@Controller('v1')
export class SourceController {
  constructor(
    private readonly auth: ApiKeyAuthenticator,
    private readonly connections: ConnectionService,
    private readonly operations: OperationRepository,
    private readonly builds: BuildRepository,
    private readonly logs: BuildLogStore,
  ) {}

  @Post('connections/:ConnectionArn/handshake')
  async handshake(@Req() req: Request, @Res() res: Response, @Param('ConnectionArn') arn: string): Promise<void> {
    const ctx = await this.auth.authenticate(req);
    res.status(200).json(toRestJson(await this.connections.handshake(ctx, arn)));
  }

  /**
   * The build output of an operation, as text. `follow=true` keeps the response open and streams output as the
   * build produces it, until the build ends; `after=<n>` resumes after chunk n (the X-Log-Next header says where).
   */
  @Get('operations/:OperationId/logs')
  async operationLogs(
    @Req() req: Request,
    @Res() res: Response,
    @Param('OperationId') operationId: string,
    @Query('follow') follow?: string,
    @Query('after') after?: string,
  ): Promise<void> {
    const ctx = await this.auth.authenticate(req);
    if (!/^[0-9a-f-]{36}$/.test(operationId)) throw new InvalidRequestException('OperationId must be an operation id (UUID).');
    if (after !== undefined && !/^-?\d+$/.test(after)) throw new InvalidRequestException('after must be an integer.');
    const operation = await this.operations.findOfTenant(ctx.tenant.id, operationId);
    if (!operation) throw notFound('operation', operationId);
    const following = follow === 'true' || follow === '1';
    const deadline = Date.now() + FOLLOW_MAX_MS;
    let closed = false;
    req.on('close', () => (closed = true));
    // An operation that will build but hasn't started yet (queued): wait for its build when following.
    const findBuild = () => this.builds.findByOperation(operationId);
    let build = await findBuild();
    while (!build && following && !closed && Date.now() < deadline && (await this.mayStillBuild(operationId))) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      build = await findBuild();
    }
    if (!build) {
      if (!following && (await this.mayStillBuild(operationId))) {
        res.status(200).type('text/plain; charset=utf-8').setHeader('X-Build-Ended', 'false').send('');
        return;
      }
      throw notFound('build of operation', operationId);
    }

    let seq = after === undefined ? -1 : Number(after);
    res.status(200).type('text/plain; charset=utf-8');
    if (!following) {
      // One answer: everything stored so far (in pages), with where to resume.
      let text = '';
      let page: Awaited<ReturnType<BuildLogStore['read']>>;
      do {
        page = await this.logs.read(build.id, seq);
        for (const c of page.chunks) text += c.text;
        if (page.chunks.length > 0) seq = page.chunks[page.chunks.length - 1].seq;
      } while (page.chunks.length > 0 && !page.ended);
      const ended = page.ended;
      res.setHeader('X-Log-Next', String(seq));
      res.setHeader('X-Build-Ended', String(ended));
      res.send(text);
      return;
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.flushHeaders();
    while (!closed && Date.now() < deadline) {
      const page = await this.logs.read(build.id, seq);
      for (const c of page.chunks) res.write(c.text);
      if (page.chunks.length > 0) seq = page.chunks[page.chunks.length - 1].seq;
      if (page.ended) break;
      if (page.chunks.length === 0) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
    }
    res.end();
  }

  /** A deploying operation of a code-based service that has not ended: its build may not exist yet. */
  private async mayStillBuild(operationId: string): Promise<boolean> {
    const found = await this.operations.findWithSourceKind(operationId);
    return (
      !!found &&
      ['PENDING', 'IN_PROGRESS'].includes(found.operation.status) &&
      ['CREATE_SERVICE', 'UPDATE_SERVICE', 'START_DEPLOYMENT'].includes(found.operation.type) &&
      found.codeBased
    );
  }
}
