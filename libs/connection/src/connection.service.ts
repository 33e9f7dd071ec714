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
import { type Connection, type Prisma, PrismaService } from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, enforceQuota, lockTenant, notFound, ownArn } from '@apprunner/tenancy';
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
    private readonly prisma: PrismaService,
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
    const row = await this.resolve(this.prisma.client, ctx, arn);
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
  async completeHandshake(state: string, installationId: number, code: string | undefined): Promise<Connection> {
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
    return this.prisma.client.$transaction(async (tx) => {
      const row = await tx.connection.findUnique({ where: { id: verified.connectionId } });
      if (!row || row.status === 'DELETED') throw new InvalidRequestException('The connection of this handshake no longer exists.');
      await lockTenant(tx, row.tenantId);
      const other = await tx.connection.findFirst({
        where: { installationId: BigInt(installationId), tenantId: { not: row.tenantId }, status: { not: 'DELETED' } },
      });
      if (other) throw new InvalidRequestException(`GitHub installation ${installationId} belongs to another account of this platform.`);
      if (row.status === 'AVAILABLE' && row.installationId === BigInt(installationId)) return row;
      const updated = await tx.connection.update({
        where: { id: row.id },
        data: {
          status: 'AVAILABLE',
          installationId: BigInt(installationId),
          providerAccount: installation.account,
          updatedAt: this.clock.now(),
        },
      });
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
    const row = await this.prisma.client.$transaction(async (tx) => {
      await enforceQuota(tx, ctx.tenant.id, 'Connections', () =>
        tx.connection.count({ where: { tenantId: ctx.tenant.id, status: { not: 'DELETED' } } }),
      );
      if (await tx.connection.findFirst({ where: { tenantId: ctx.tenant.id, activeName: name } })) {
        throw new InvalidRequestException(`Connection with the provided name already exists: ${name}`);
      }
      const created = await tx.connection.create({
        data: {
          tenantId: ctx.tenant.id,
          connectionName: name,
          activeName: name,
          arn: formatArn(ctx.tenant, 'connection', name, newResourceId()),
          providerType: input.ProviderType as string,
          status: 'PENDING_HANDSHAKE',
          createdAt: this.clock.now(),
        },
      });
      await this.tags.put(tx, ctx, created.arn, input.Tags);
      return created;
    });
    return { Connection: toSdk(row) };
  }

  async list(ctx: CallContext, input: ListConnectionsRequest): Promise<ListConnectionsResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.prisma.client.connection.findMany({
      where: {
        tenantId: ctx.tenant.id,
        status: { not: 'DELETED' },
        ...(input.ConnectionName ? { connectionName: input.ConnectionName } : {}),
        ...(after
          ? { OR: [{ createdAt: { gt: new Date(after[0]) } }, { createdAt: new Date(after[0]), id: { gt: String(after[1]) } }] }
          : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return { ConnectionSummaryList: items.map(toSdk), ...(nextToken ? { NextToken: nextToken } : {}) };
  }

  async delete(ctx: CallContext, arn: string): Promise<DeleteConnectionResponse> {
    const row = await this.prisma.client.$transaction(async (tx) => {
      await lockTenant(tx, ctx.tenant.id);
      const found = await this.resolve(tx, ctx, arn);
      const users = await tx.service.count({ where: { connectionId: found.id, status: { not: 'DELETED' } } });
      if (users > 0) throw new InvalidRequestException(`You can't delete a connection that is used by one or more services: ${arn}`);
      return tx.connection.update({ where: { id: found.id }, data: { status: 'DELETED', activeName: null, deletedAt: this.clock.now() } });
    });
    return { Connection: toSdk(row) };
  }

  /** A code repository service must name a live connection of its own tenant. */
  forService(tx: Prisma.TransactionClient, ctx: CallContext, arn: string): Promise<Connection> {
    return this.resolve(tx, ctx, arn);
  }

  private async resolve(db: Prisma.TransactionClient, ctx: CallContext, arn: string): Promise<Connection> {
    ownArn(ctx.tenant, arn, 'connection', NOUN);
    const row = await db.connection.findFirst({ where: { tenantId: ctx.tenant.id, arn, status: { not: 'DELETED' } } });
    if (!row) throw notFound(NOUN, arn);
    return row;
  }
}

function toSdk(row: Connection): SdkConnection {
  return {
    ConnectionName: row.connectionName,
    ConnectionArn: row.arn,
    ProviderType: row.providerType as SdkConnection['ProviderType'],
    Status: row.status as SdkConnection['Status'],
    CreatedAt: row.createdAt,
  };
}
