import { Controller, Get, HttpCode, Inject, Logger, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AutoDeployService } from '@apprunner/auto-deploy';
import { AuthenticationError, InvalidRequestException, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { ConnectionService } from '@apprunner/connection';
import { parseGitHubEvent, verifyWebhookSignature } from '@apprunner/github';

/**
 * GitHub's side of connections and automatic deployments: the App's setup callback (completes a connection's
 * handshake) and its webhook (pushes deploy, installation changes update connections). Deliveries are verified
 * on the raw body before anything else happens, and handled once per X-GitHub-Delivery.
 */
@Controller('github')
export class GitHubController {
  private readonly logger = new Logger(GitHubController.name);

  constructor(
    private readonly connections: ConnectionService,
    private readonly autoDeploy: AutoDeployService,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Get('setup')
  async setup(
    @Res() res: Response,
    @Query('installation_id') installationId?: string,
    @Query('state') state?: string,
    @Query('setup_action') action?: string,
    // Present when the App requests user authorization during installation (required: see completeHandshake).
    @Query('code') code?: string,
  ): Promise<void> {
    if (!state)
      throw new InvalidRequestException(
        'The setup callback needs the state of a handshake (start it with POST /v1/connections/{ConnectionArn}/handshake).',
      );
    if (!installationId || !/^\d+$/.test(installationId))
      throw new InvalidRequestException(`installation_id is missing (setup_action ${action ?? 'none'}).`);
    const connection = await this.connections.completeHandshake(state, Number(installationId), typeof code === 'string' ? code : undefined);
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><meta charset="utf-8"><title>Connection available</title><p>Connection <b>${escapeHtml(connection.connectionName)}</b> is now AVAILABLE ` +
          `(GitHub account ${escapeHtml(connection.providerAccount ?? '')}). You can close this page.</p>`,
      );
  }

  @Post('webhook')
  @HttpCode(202)
  async webhook(@Req() req: Request & { rawBody?: Buffer }): Promise<{ handled: string; deployments?: unknown[] }> {
    const secret = this.config.GITHUB_WEBHOOK_SECRET;
    if (!secret) throw new InvalidRequestException('GitHub webhooks are not configured on this platform (GITHUB_WEBHOOK_SECRET).');
    const signature = header(req, 'x-hub-signature-256');
    if (!req.rawBody || !(await verifyWebhookSignature(secret, req.rawBody, signature))) {
      this.logger.warn(`webhook delivery ${header(req, 'x-github-delivery') ?? '?'} rejected: bad signature`);
      throw new AuthenticationError('InvalidSignatureException', 'The webhook signature (X-Hub-Signature-256) does not match the body.');
    }
    const delivery = header(req, 'x-github-delivery');
    const eventName = header(req, 'x-github-event');
    if (!delivery || !eventName) throw new InvalidRequestException('X-GitHub-Delivery and X-GitHub-Event are required.');
    if (!(await this.autoDeploy.firstDelivery('github', delivery))) return { handled: 'duplicate delivery' };
    const event = parseGitHubEvent(eventName, JSON.parse(req.rawBody.toString('utf8')) as unknown);
    switch (event.kind) {
      case 'push':
        return { handled: 'push', deployments: await this.autoDeploy.onGitHubPush(event) };
      case 'installation':
        return { handled: `installation ${event.action}: ${await this.autoDeploy.onInstallation(event)} connection(s) updated` };
      default:
        return { handled: `ignored: ${event.reason}` };
    }
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
