import { Inject, Injectable, Logger } from '@nestjs/common';
import type {
  Connection as SdkConnection,
  CreateConnectionRequest,
  CreateConnectionResponse,
  DeleteConnectionResponse,
  ListConnectionsRequest,
  ListConnectionsResponse,
} from '@aws-sdk/client-apprunner';
import {
  Clock,
  decodeNextToken,
  formatArn,
  InvalidRequestException,
  InvalidStateException,
  newResourceId,
  page,
  PLATFORM_CONFIG,
  type PlatformConfig,
  pageTake,
} from '@apprunner/core';
import { GitHubApiError, type GitHubAppClient, signHandshakeState, verifyHandshakeState } from '@apprunner/github';
import { type ConnectionRecord, ConnectionRepository, Database, ServiceRepository, type Transaction } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, notFound, ownArn, TenantLock } from '@apprunner/tenancy';
import { GITHUB_APP, handshakeKey, missingUserAuthorizationSettings } from './github-app.provider';

const NOUN = 'connection';
/** How long a handshake link stays valid. */
const HANDSHAKE_TTL_SECONDS = 3_600;

/** Connections to source code providers; created PENDING_HANDSHAKE until the provider app is installed (GitHub issue). */
@Injectable()
export class ConnectionService {
  private readonly logger = new Logger(ConnectionService.name);
  private readonly stateKey: Buffer;
  /** OAuth client settings the handshake needs but the platform lacks; handshakes are refused until they are set. */
  private readonly missingOAuthSettings: string[];

  constructor(
    private readonly database: Database,
    private readonly connections: ConnectionRepository,
    private readonly services: ServiceRepository,
    private readonly lock: TenantLock,
    private readonly tags: TagService,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) config: PlatformConfig,
    @Inject(GITHUB_APP) private readonly github: GitHubAppClient | null,
  ) {
    this.stateKey = handshakeKey(config);
    this.missingOAuthSettings = missingUserAuthorizationSettings(config);
  }

  /**
   * Step 1 of the handshake (App Runner's "Complete handshake"): where the tenant installs the platform's GitHub App.
   * The URL carries a signed, expiring state naming this connection; GitHub sends it back to the setup callback.
   */
  async handshake(ctx: CallContext, arn: string): Promise<{ ConnectionArn: string; HandshakeUrl: string; ExpiresAt: Date }> {
    const row = await this.resolve(ctx, arn);
    if (row.providerType !== 'GITHUB') {
      throw new InvalidRequestException(
        `${row.providerType} connections are not supported by this platform: only GITHUB connections can complete a handshake.`,
      );
    }
    if (row.status === 'AVAILABLE') throw new InvalidStateException(`The connection is already AVAILABLE: ${arn}`);
    if (!this.github)
      throw new InvalidRequestException(
        'GitHub is not configured on this platform (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY, GITHUB_APP_SLUG): ask the platform administrator.',
      );
    this.requireUserAuthorization();
    const now = this.clock.now();
    const state = signHandshakeState(this.stateKey, row.id, now, HANDSHAKE_TTL_SECONDS);
    return {
      ConnectionArn: row.arn,
      HandshakeUrl: this.github.installationUrl(state),
      ExpiresAt: new Date(now.getTime() + HANDSHAKE_TTL_SECONDS * 1_000),
    };
  }

  /**
   * Step 2: GitHub's setup callback after the installation. The state proves which connection (and so which tenant)
   * asked. installation_id alone can be spoofed, so the App requests user authorization during installation and the
   * callback carries a `code`: the installation must be one the authorizing user can access. It is also checked with
   * the App's own credentials, and one already bound to another tenant's connection is refused.
   */
  async completeHandshake(state: string, installationId: number, code: string | undefined): Promise<ConnectionRecord> {
    if (!this.github) throw new InvalidRequestException('GitHub is not configured on this platform.');
    this.requireUserAuthorization();
    const verified = verifyHandshakeState(this.stateKey, state, this.clock.now());
    if ('error' in verified)
      throw new InvalidRequestException(`The handshake link is not valid: ${verified.error}. Start the handshake again.`);
    if (!Number.isSafeInteger(installationId) || installationId <= 0)
      throw new InvalidRequestException('installation_id must be a positive integer.');
    if (!code) {
      throw new InvalidRequestException(
        "The setup callback carries no authorization code: authorize the platform's GitHub App when GitHub asks during the installation (start the handshake again).",
      );
    }
    const mine = await this.github.userInstallationIds(code).catch((e: unknown) => {
      // The caller's fault (a stale, reused or made-up code): a 400 saying so. Anything else is the platform's problem.
      if (e instanceof GitHubApiError && e.kind === 'AUTHORIZATION_CODE_REJECTED') {
        throw new InvalidRequestException(
          `GitHub refused the authorization code of the setup callback (it is valid once, for ten minutes): start the handshake again.`,
        );
      }
      throw e;
    });
    if (!mine.has(installationId))
      throw new InvalidRequestException(
        `GitHub installation ${installationId} is not one of yours: install the App from the handshake link and authorize it as the installing user.`,
      );
    const installation = await this.github.getInstallation(installationId);
    if (!installation) throw new InvalidRequestException(`GitHub installation ${installationId} of this platform's app does not exist.`);
    if (installation.suspended)
      throw new InvalidRequestException(
        `GitHub installation ${installationId} is suspended; unsuspend it on GitHub and start the handshake again.`,
      );
    return this.database.transaction(async (tx) => {
      const row = await this.connections.findById(verified.connectionId, tx);
      if (!row || row.status === 'DELETED') throw new InvalidRequestException('The connection of this handshake no longer exists.');
      await this.lock.take(tx, row.tenantId);
      const other = await this.connections.boundElsewhere(BigInt(installationId), row.tenantId, tx);
      if (other) throw new InvalidRequestException(`GitHub installation ${installationId} belongs to another account of this platform.`);
      if (row.status === 'AVAILABLE' && row.installationId === BigInt(installationId)) return row;
      const updated = await this.connections.bind(
        row.id,
        { installationId: BigInt(installationId), providerAccount: installation.account },
        this.clock.now(),
        tx,
      );
      this.logger.log(`connection ${row.arn} bound to GitHub installation ${installationId} (${installation.account})`);
      return updated;
    });
  }

  /** Without the App's OAuth client credentials the setup callback can't be verified: no handshakes (secure by default). */
  private requireUserAuthorization(): void {
    if (this.missingOAuthSettings.length === 0) return;
    throw new InvalidRequestException(
      `GitHub user authorization is not configured on this platform (${this.missingOAuthSettings.join(', ')}: the App's OAuth client credentials), so handshakes can't be verified: ask the platform administrator.`,
    );
  }

  async create(ctx: CallContext, input: CreateConnectionRequest): Promise<CreateConnectionResponse> {
    const name = input.ConnectionName as string;
    const row = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
      await quotas.check('Connections', () => this.connections.countLive(ctx.tenant.id, tx));
      if (await this.connections.nameInUse(ctx.tenant.id, name, tx)) {
        throw new InvalidRequestException(`Connection with the provided name already exists: ${name}`);
      }
      const created = await this.connections.create(
        {
          tenantId: ctx.tenant.id,
          connectionName: name,
          arn: formatArn(ctx.tenant, 'connection', name, newResourceId()),
          providerType: input.ProviderType as string,
          createdAt: this.clock.now(),
        },
        tx,
      );
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { Connection: toSdk(row) };
  }

  async list(ctx: CallContext, input: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.connections.pageLive(
      ctx.tenant.id,
      { ...(input.ConnectionName ? { connectionName: input.ConnectionName } : {}) },
      { ...(after ? { after: { createdAt: new Date(after[0]), id: String(after[1]) } } : {}), take: pageTake(max) },
    );
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { ConnectionSummaryList: items.map(toSdk), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteConnectionResponse> {
    const row = await this.lock.run(ctx.tenant.id, async (tx) => {
      const found = await this.resolve(ctx, arn, tx);
      const users = await this.services.countLiveUsing({ connectionId: found.id }, tx);
      if (users > 0) throw new InvalidRequestException(`You can't delete a connection that is used by one or more services: ${arn}`);
      return this.connections.markDeleted(found.id, this.clock.now(), tx);
    });
    return { Connection: toSdk(row) };
  }

  /** A code repository service must name a live connection of its own tenant. */
  forService(tx: Transaction, ctx: CallContext, arn: string): Promise<ConnectionRecord> {
    return this.resolve(ctx, arn, tx);
  }

  private async resolve(ctx: CallContext, arn: string, tx?: Transaction): Promise<ConnectionRecord> {
    ownArn(ctx.tenant, arn, 'connection', NOUN);
    const row = await this.connections.findLiveByArn(ctx.tenant.id, arn, tx);
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

function toSdk(row: ConnectionRecord): SdkConnection {
  return {
    ConnectionName: row.connectionName,
    ConnectionArn: row.arn,
    ProviderType: row.providerType as SdkConnection['ProviderType'],
    Status: row.status as SdkConnection['Status'],
    CreatedAt: row.createdAt,
  };
}
