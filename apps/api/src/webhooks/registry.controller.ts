import { timingSafeEqual } from 'node:crypto';
import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { AutoDeployService, type DeploymentDecision } from '@apprunner/auto-deploy';
import { AuthenticationError, InvalidRequestException, PLATFORM_CONFIG, type PlatformConfig } from '@apprunner/core';
import { parseRegistryNotification, RegistryError, type RegistryPushEvent } from '@apprunner/registry';
import { readJsonBody } from '../common/body';

/** Registries batch events (CNCF distribution: `threshold`, default 10); far more in one request is not a registry. */
const MAX_EVENTS = 5_000;

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
  async notifications(@Req() req: Request): Promise<{ events: number; deployments: DeploymentDecision[] }> {
    const token = this.config.REGISTRY_WEBHOOK_TOKEN;
    if (!token) throw new InvalidRequestException('Registry notifications are not configured on this platform (REGISTRY_WEBHOOK_TOKEN).');
    const given = Buffer.from((req.headers.authorization ?? '').replace(/^Bearer\s+/i, ''));
    const expected = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AuthenticationError('UnrecognizedClientException', 'The registry notification token is invalid.');
    }
    // Authenticated: only now is the body read and parsed, within the door's limits.
    const body = await readJsonBody(req, 'registry');
    let events: RegistryPushEvent[];
    try {
      events = parseRegistryNotification(typeof body === 'object' && body !== null ? body : {});
    } catch (e) {
      if (e instanceof RegistryError) throw new InvalidRequestException(e.message);
      throw e;
    }
    if (events.length > MAX_EVENTS) throw new InvalidRequestException(`A notification may carry at most ${MAX_EVENTS} pushes.`);
    const { deployments } = await this.autoDeploy.onRegistryEvents(events);
    return { events: events.length, deployments };
  }
}
