import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type {
  CreateServiceRequest,
  CreateServiceResponse,
  DeleteServiceResponse,
  DescribeServiceResponse,
  ListOperationsRequest,
  ListOperationsResponse,
  ListServicesRequest,
  ListServicesResponse,
  PauseServiceResponse,
  ResumeServiceResponse,
  Service as SdkService,
  StartDeploymentResponse,
  UpdateServiceRequest,
  UpdateServiceResponse,
} from '@aws-sdk/client-apprunner';
import { AutoScalingConfigurationService } from '@apprunner/auto-scaling-configuration';
import { ConnectionService } from '@apprunner/connection';
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
import { ObservabilityConfigurationService } from '@apprunner/observability-configuration';
import { OperationService, type OperationType } from '@apprunner/operation';
import {
  type AutomaticDeployment,
  type AutoScalingConfigurationRecord,
  AutoScalingConfigurationRepository,
  Database,
  type ServiceChange,
  type ServiceRecord,
  ServiceRepository,
  type Transaction,
  UniqueConstraintError,
  VpcIngressConnectionRepository,
} from '@apprunner/persistence';
import { TagService } from '@apprunner/tag';
import { type CallContext, notFound, ownArn, TenantLock } from '@apprunner/tenancy';
import { VpcConnectorService } from '@apprunner/vpc-connector';
import {
  normalizeHealthCheck,
  normalizeInstance,
  normalizeNetwork,
  normalizeObservability,
  normalizeSource,
  type ServiceSpec,
} from './service-spec';

const NOUN = 'service';

export type { AutomaticDeployment };
type AutomaticOperationFields = { trigger: string; sourceCommit?: string; image?: string };

/** Which states each mutation may start from (guide §2.1.4); anything else is InvalidStateException. */
const ALLOWED_FROM: Record<OperationType, string[]> = {
  CREATE_SERVICE: [],
  UPDATE_SERVICE: ['RUNNING', 'CREATE_FAILED'],
  START_DEPLOYMENT: ['RUNNING'],
  PAUSE_SERVICE: ['RUNNING'],
  RESUME_SERVICE: ['PAUSED'],
  DELETE_SERVICE: ['RUNNING', 'PAUSED', 'CREATE_FAILED', 'DELETE_FAILED'],
};

/**
 * App Runner's service actions (CreateService, UpdateService, StartDeployment, Pause/Resume/DeleteService, Describe,
 * List, ListOperations) and automatic deployments: the application service of the Service noun, named for what it
 * does ("ServiceService" would say nothing).
 */
@Injectable()
export class ServiceActions {
  constructor(
    private readonly database: Database,
    private readonly serviceRecords: ServiceRepository,
    private readonly autoScalingRecords: AutoScalingConfigurationRepository,
    private readonly vpcIngressConnections: VpcIngressConnectionRepository,
    private readonly lock: TenantLock,
    private readonly operations: OperationService,
    private readonly autoScaling: AutoScalingConfigurationService,
    private readonly observability: ObservabilityConfigurationService,
    private readonly vpcConnectors: VpcConnectorService,
    private readonly connections: ConnectionService,
    private readonly tags: TagService,
    private readonly clock: Clock,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async create(ctx: CallContext, input: CreateServiceRequest): Promise<CreateServiceResponse> {
    const name = input.ServiceName as string;
    const spec: ServiceSpec = {
      SourceConfiguration: normalizeSource(input.SourceConfiguration),
      InstanceConfiguration: normalizeInstance(input.InstanceConfiguration),
      HealthCheckConfiguration: normalizeHealthCheck(input.HealthCheckConfiguration),
      NetworkConfiguration: normalizeNetwork(input.NetworkConfiguration),
      ObservabilityConfiguration: normalizeObservability(input.ObservabilityConfiguration),
      ...(input.EncryptionConfiguration ? { EncryptionConfiguration: input.EncryptionConfiguration } : {}),
    };
    try {
      const { service, operationId } = await this.lock.run(ctx.tenant.id, async (tx, quotas) => {
        await quotas.check('Services', () => this.serviceRecords.countLive(ctx.tenant.id, tx));
        if (await this.serviceRecords.nameInUse(ctx.tenant.id, name, tx)) throw duplicateName(name);
        const { autoScalingConfigurationId, ...refs } = await this.references(tx, ctx, spec, input.AutoScalingConfigurationArn);
        const serviceId = newResourceId();
        const now = this.clock.now();
        const service = await this.serviceRecords.create(
          {
            tenantId: ctx.tenant.id,
            serviceId,
            serviceName: name,
            arn: formatArn(ctx.tenant, 'service', name, serviceId),
            status: 'OPERATION_IN_PROGRESS',
            urlHost: `${urlLabel()}.${this.config.APPRUNNER_REGION}.${this.config.PLATFORM_DOMAIN}`,
            spec,
            ...refs,
            autoScalingConfigurationId: autoScalingConfigurationId as string,
            createdAt: now,
            updatedAt: now,
          },
          tx,
        );
        const op = await this.operations.begin(tx, {
          tenantId: ctx.tenant.id,
          serviceId: service.id,
          targetArn: service.arn,
          generation: service.generation,
          type: 'CREATE_SERVICE',
          fromStatus: 'NONE',
        });
        await this.tags.put(tx, ctx, service.arn, input.Tags);
        return { service, operationId: op.id };
      });
      await this.operations.dispatch('service-operation', operationId);
      return { Service: await this.toSdk(service), OperationId: operationId };
    } catch (e) {
      // The unique (tenant, activeName) index settles a race between two creates of one name.
      if (e instanceof UniqueConstraintError) throw duplicateName(name);
      throw e;
    }
  }

  async update(ctx: CallContext, input: UpdateServiceRequest): Promise<UpdateServiceResponse> {
    return this.mutate(
      (tx) => this.findOwn(ctx, input.ServiceArn as string, tx),
      'UPDATE_SERVICE',
      async (tx, current) => {
        // The configurations it names are read under the tenant lock their deletions take: a configuration is never
        // deleted between being found ACTIVE here and this update committing with it.
        await this.lock.take(tx, ctx.tenant.id);
        const base = current.spec;
        const spec: ServiceSpec = {
          SourceConfiguration: normalizeSource(input.SourceConfiguration, base.SourceConfiguration),
          InstanceConfiguration: normalizeInstance(input.InstanceConfiguration, base.InstanceConfiguration),
          HealthCheckConfiguration: normalizeHealthCheck(input.HealthCheckConfiguration, base.HealthCheckConfiguration),
          NetworkConfiguration: normalizeNetwork(input.NetworkConfiguration, base.NetworkConfiguration),
          ObservabilityConfiguration: normalizeObservability(input.ObservabilityConfiguration, base.ObservabilityConfiguration),
          ...(base.EncryptionConfiguration ? { EncryptionConfiguration: base.EncryptionConfiguration } : {}),
        };
        const refs = await this.references(tx, ctx, spec, input.AutoScalingConfigurationArn, current.autoScalingConfigurationId);
        return { spec, newGeneration: true, ...refs };
      },
    );
  }

  async startDeployment(ctx: CallContext, arn: string): Promise<StartDeploymentResponse> {
    // A deployment re-fetches the source (latest commit / image digest) with the same spec: new generation.
    const { OperationId } = await this.mutate(
      (tx) => this.findOwn(ctx, arn, tx),
      'START_DEPLOYMENT',
      async () => ({ newGeneration: true }),
    );
    return { OperationId };
  }

  pause(ctx: CallContext, arn: string): Promise<PauseServiceResponse> {
    return this.mutate(
      (tx) => this.findOwn(ctx, arn, tx),
      'PAUSE_SERVICE',
      async () => ({}),
    );
  }

  resume(ctx: CallContext, arn: string): Promise<ResumeServiceResponse> {
    return this.mutate(
      (tx) => this.findOwn(ctx, arn, tx),
      'RESUME_SERVICE',
      async () => ({}),
    );
  }

  delete(ctx: CallContext, arn: string): Promise<DeleteServiceResponse> {
    return this.mutate(
      (tx) => this.findOwn(ctx, arn, tx),
      'DELETE_SERVICE',
      async (tx, current) => {
        const vics = await this.vpcIngressConnections.countLiveOfService(current.id, tx);
        if (vics > 0) throw new InvalidStateException('Delete the VPC ingress connection of this service before deleting the service.');
        return {};
      },
    );
  }

  async describe(ctx: CallContext, arn: string): Promise<DescribeServiceResponse> {
    ownArn(ctx.tenant, arn, 'service', NOUN);
    // One round trip for the common case: the service with its auto scaling configuration.
    const found = await this.serviceRecords.findByArnWithAutoScaling(ctx.tenant.id, arn);
    if (!found) throw notFound(NOUN, arn);
    return { Service: await this.toSdk(found.service, found.autoScaling) };
  }

  async list(ctx: CallContext, input: ListServicesRequest): Promise<ListServicesResponse> {
    const max = input.MaxResults;
    const after = decodeNextToken(input.NextToken, ['timestamp', 'uuid']);
    const rows = await this.serviceRecords.pageLive(ctx.tenant.id, {
      ...(after ? { after: { createdAt: new Date(after[0]), id: String(after[1]) } } : {}),
      take: pageTake(max),
    });
    const { items, nextToken } = page(rows, max, (r) => [r.createdAt.toISOString(), r.id]);
    return {
      ServiceSummaryList: items.map((r) => ({
        ServiceName: r.serviceName,
        ServiceId: r.serviceId,
        ServiceArn: r.arn,
        ServiceUrl: r.urlHost,
        CreatedAt: r.createdAt,
        UpdatedAt: r.updatedAt,
        Status: r.status as SdkService['Status'],
      })),
      ...(nextToken ? { NextToken: nextToken } : {}),
    };
  }

  async listOperations(ctx: CallContext, input: ListOperationsRequest): Promise<ListOperationsResponse> {
    const service = await this.findOwn(ctx, input.ServiceArn as string);
    return this.operations.list(ctx.tenant.id, service.id, input);
  }

  /** A live (or recently deleted) service of the caller's tenant, by ARN. */
  async findOwn(ctx: CallContext, arn: string, tx?: Transaction): Promise<ServiceRecord> {
    ownArn(ctx.tenant, arn, 'service', NOUN);
    const row = await this.serviceRecords.findByArn(ctx.tenant.id, arn, tx);
    if (!row) throw notFound(NOUN, arn);
    return row;
  }

  async toSdk(s: ServiceRecord, loadedAsc?: AutoScalingConfigurationRecord): Promise<SdkService> {
    const { spec } = s;
    const asc = loadedAsc ?? (await this.autoScalingRecords.findById(s.autoScalingConfigurationId));
    // A live service is itself associated with its configuration; only a deleted one needs the lookup.
    const ascSdk = s.status !== 'DELETED' ? this.autoScaling.summaryOf(asc, true) : await this.autoScaling.toSdk(asc);
    return {
      ServiceName: s.serviceName,
      ServiceId: s.serviceId,
      ServiceArn: s.arn,
      ServiceUrl: s.urlHost,
      CreatedAt: s.createdAt,
      UpdatedAt: s.updatedAt,
      ...(s.deletedAt ? { DeletedAt: s.deletedAt } : {}),
      Status: s.status as SdkService['Status'],
      SourceConfiguration: spec.SourceConfiguration,
      InstanceConfiguration: spec.InstanceConfiguration,
      ...(spec.EncryptionConfiguration ? { EncryptionConfiguration: spec.EncryptionConfiguration } : {}),
      HealthCheckConfiguration: spec.HealthCheckConfiguration,
      AutoScalingConfigurationSummary: {
        AutoScalingConfigurationArn: ascSdk.AutoScalingConfigurationArn,
        AutoScalingConfigurationName: ascSdk.AutoScalingConfigurationName,
        AutoScalingConfigurationRevision: ascSdk.AutoScalingConfigurationRevision,
        Status: ascSdk.Status,
        CreatedAt: ascSdk.CreatedAt,
        HasAssociatedService: ascSdk.HasAssociatedService,
        IsDefault: ascSdk.IsDefault,
      },
      NetworkConfiguration: spec.NetworkConfiguration,
      ObservabilityConfiguration: spec.ObservabilityConfiguration,
    };
  }

  /**
   * An automatic deployment (a push to the tracked branch, a new digest of the tracked image tag), on behalf of the
   * service's tenant. A RUNNING service deploys now; while an operation runs, the request is kept on the service and
   * deployed when that operation ends (the newest request wins: it holds the newest commit or digest); any other
   * state ignores it, as App Runner does.
   */
  async startAutomaticDeployment(
    serviceId: string,
    trigger: AutomaticDeployment,
  ): Promise<{ operationId?: string; deferred?: boolean; ignored?: string }> {
    const service = await this.serviceRecords.findById(serviceId);
    if (!service || service.status === 'DELETED') return { ignored: 'the service no longer exists' };
    if (service.status === 'OPERATION_IN_PROGRESS' && (await this.serviceRecords.deferDeployment(serviceId, trigger)))
      return { deferred: true };
    try {
      const { OperationId } = await this.mutate(
        (tx) => this.serviceRecords.get(serviceId, tx),
        'START_DEPLOYMENT',
        async () => ({ newGeneration: true, clearPendingDeployment: true }),
        {
          trigger: trigger.trigger,
          ...(trigger.commit ? { sourceCommit: trigger.commit } : {}),
          ...(trigger.image ? { image: trigger.image } : {}),
        },
      );
      return { operationId: OperationId };
    } catch (e) {
      if (e instanceof InvalidStateException) return { ignored: e.message };
      throw e;
    }
  }

  /**
   * Every asynchronous mutation: move the service to OPERATION_IN_PROGRESS with a conditional update
   * (so two concurrent mutations can't both start), record the operation, then enqueue it.
   */
  private async mutate(
    load: (tx: Transaction) => Promise<ServiceRecord>,
    type: OperationType,
    change: (tx: Transaction, current: ServiceRecord) => Promise<ServiceChange>,
    extra?: AutomaticOperationFields,
  ): Promise<{ Service: SdkService; OperationId: string }> {
    const { service, operationId } = await this.database.transaction(async (tx) => {
      const current = await load(tx);
      if (current.status === 'DELETED') throw notFound(NOUN, current.arn);
      if (!ALLOWED_FROM[type].includes(current.status)) throw wrongState(type, current.status);
      const service = await this.serviceRecords.startOperation(current, await change(tx, current), this.clock.now(), tx);
      if (!service) throw wrongState(type, 'OPERATION_IN_PROGRESS');
      const op = await this.operations.begin(tx, {
        tenantId: current.tenantId,
        serviceId: service.id,
        targetArn: service.arn,
        generation: service.generation,
        type,
        fromStatus: current.status,
        ...(type === 'UPDATE_SERVICE' || type === 'START_DEPLOYMENT' ? { rollbackSpec: current.spec } : {}),
        ...extra,
      });
      return { service, operationId: op.id };
    });
    await this.operations.dispatch('service-operation', operationId);
    return { Service: await this.toSdk(service), OperationId: operationId };
  }

  /** Resolves the configuration resources a spec names, within the caller's tenant. */
  private async references(tx: Transaction, ctx: CallContext, spec: ServiceSpec, ascArn: string | undefined, currentAscId?: string) {
    const asc = ascArn !== undefined || !currentAscId ? await this.autoScaling.forService(tx, ctx, ascArn) : undefined;
    const obsArn = spec.ObservabilityConfiguration.ObservabilityConfigurationArn;
    const vpcArn = spec.NetworkConfiguration.EgressConfiguration?.VpcConnectorArn;
    const connArn = spec.SourceConfiguration.AuthenticationConfiguration?.ConnectionArn;
    if (connArn && !spec.SourceConfiguration.CodeRepository) {
      throw new InvalidRequestException('ConnectionArn applies only to a code repository source.');
    }
    return {
      ...(asc ? { autoScalingConfigurationId: asc.id } : {}),
      observabilityConfigurationId: obsArn ? (await this.observability.forService(tx, ctx, obsArn)).id : null,
      vpcConnectorId: vpcArn ? (await this.vpcConnectors.forService(tx, ctx, vpcArn)).id : null,
      connectionId: connArn ? (await this.connections.forService(tx, ctx, connArn)).id : null,
    };
  }
}

function duplicateName(name: string): InvalidRequestException {
  return new InvalidRequestException(`Service with the provided name already exists: ${name}`);
}

function wrongState(type: OperationType, status: string): InvalidStateException {
  return new InvalidStateException(`You can't perform ${type} on a service in the ${status} state.`);
}

/** The service URL's first label: random, independent of the service id, like App Runner's. */
function urlLabel(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(10)].map((b) => alphabet[b % alphabet.length]).join('');
}
