import { Controller, Get, HttpCode, Inject, Logger, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AutoDeployService } from '@apprunner/auto-deploy';
import { AuthenticationError, InvalidRequestException, parseJsonText, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { ConnectionService } from '@apprunner/connection';
import { parseGitHubEvent, verifyWebhookSignature } from '@apprunner/github';
import { decodeUtf8, DOOR_LIMITS, mediaType, readRawBody } from '../common/body';

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
  async webhook(@Req() req: Request): Promise<{ handled: string; deployments?: unknown[] }> {
    const secret = this.config.GITHUB_WEBHOOK_SECRET;
    if (!secret) throw new InvalidRequestException('GitHub webhooks are not configured on this platform (GITHUB_WEBHOOK_SECRET).');
    const signature = header(req, 'x-hub-signature-256');
    const delivery = header(req, 'x-github-delivery');
    // Nothing is read before a delivery could be genuine: a signature header of the right form, then the body.
    if (
      !signature?.startsWith('sha256=') ||
      !(await verifyWebhookSignature(secret, await readRawBody(req, DOOR_LIMITS.github.maxBytes), signature))
    ) {
      this.logger.warn(`webhook delivery ${delivery?.slice(0, 64) ?? '?'} rejected: bad signature`);
      throw new AuthenticationError('InvalidSignatureException', 'The webhook signature (X-Hub-Signature-256) does not match the body.');
    }
    const eventName = header(req, 'x-github-event');
    if (!delivery || !eventName) throw new InvalidRequestException('X-GitHub-Delivery and X-GitHub-Event are required.');
    if (delivery.length > 128) throw new InvalidRequestException('X-GitHub-Delivery is longer than 128 characters.');
    const payload = githubPayload(req);
    if (!(await this.autoDeploy.firstDelivery('github', delivery))) return { handled: 'duplicate delivery' };
    const event = parseGitHubEvent(eventName, payload);
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

/**
 * The document of a verified delivery. A GitHub App's webhook content type is `application/json` (the body is the
 * document) or `application/x-www-form-urlencoded` (the document is the `payload` field); the signature covers the
 * raw body either way.
 */
function githubPayload(req: Request): unknown {
  const text = decodeUtf8(req.rawBody ?? Buffer.alloc(0));
  const { maxDepth } = DOOR_LIMITS.github;
  switch (mediaType(req)) {
    case 'application/json':
      return parseJsonText(text, maxDepth, 'The delivery');
    case 'application/x-www-form-urlencoded': {
      const payload = new URLSearchParams(text).get('payload');
      if (payload === null) throw new InvalidRequestException('A form-encoded delivery must carry its document in the payload field.');
      return parseJsonText(payload, maxDepth, 'The delivery payload');
    }
    default:
      throw new InvalidRequestException(
        `Content-Type ${mediaType(req) || '(none)'} is not a GitHub webhook content type (application/json or application/x-www-form-urlencoded).`,
        { transportStatus: 415 },
      );
  }
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
