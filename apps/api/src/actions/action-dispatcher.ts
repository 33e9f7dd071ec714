import { Injectable } from '@nestjs/common';
import { type ActionName, isActionName, validateInput } from '@apprunner/api-model';
import { AutoScalingConfigurationService } from '@apprunner/auto-scaling-configuration';
import { ConnectionService } from '@apprunner/connection';
import { AppRunnerError, UnknownOperationException } from '@apprunner/core';
import { CustomDomainService } from '@apprunner/custom-domain';
import { ObservabilityConfigurationService } from '@apprunner/observability-configuration';
import { ServiceActions } from '@apprunner/service';
import { TagService } from '@apprunner/tag';
import type { CallContext } from '@apprunner/tenancy';
import { VpcConnectorService } from '@apprunner/vpc-connector';
import { VpcIngressConnectionService } from '@apprunner/vpc-ingress-connection';
import { AuditService } from './audit.service';

// Inputs are validated against the App Runner model before a handler runs, so handlers may
// rely on required members being present and typed as the SDK declares them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (ctx: CallContext, input: any) => Promise<unknown>;

/**
 * The one application entry point both front doors use: action name + input + caller →
 * validation, the application service of the action's noun, and an audit record for every mutating call.
 */
@Injectable()
export class ActionDispatcher {
  private readonly handlers: Record<ActionName, Handler>;

  constructor(
    services: ServiceActions,
    asc: AutoScalingConfigurationService,
    obs: ObservabilityConfigurationService,
    vpc: VpcConnectorService,
    vic: VpcIngressConnectionService,
    connections: ConnectionService,
    domains: CustomDomainService,
    tags: TagService,
    private readonly audit: AuditService,
  ) {
    this.handlers = {
      CreateService: (c, i) => services.create(c, i),
      UpdateService: (c, i) => services.update(c, i),
      DeleteService: (c, i) => services.delete(c, i.ServiceArn),
      DescribeService: (c, i) => services.describe(c, i.ServiceArn),
      ListServices: (c, i) => services.list(c, i),
      PauseService: (c, i) => services.pause(c, i.ServiceArn),
      ResumeService: (c, i) => services.resume(c, i.ServiceArn),
      StartDeployment: (c, i) => services.startDeployment(c, i.ServiceArn),
      ListOperations: (c, i) => services.listOperations(c, i),
      CreateAutoScalingConfiguration: (c, i) => asc.create(c, i),
      DescribeAutoScalingConfiguration: (c, i) => asc.describe(c, i.AutoScalingConfigurationArn),
      ListAutoScalingConfigurations: (c, i) => asc.list(c, i),
      DeleteAutoScalingConfiguration: (c, i) => asc.delete(c, i),
      UpdateDefaultAutoScalingConfiguration: (c, i) => asc.updateDefault(c, i.AutoScalingConfigurationArn),
      ListServicesForAutoScalingConfiguration: (c, i) => asc.listServices(c, i),
      AssociateCustomDomain: (c, i) => domains.associate(c, i),
      DisassociateCustomDomain: (c, i) => domains.disassociate(c, i.ServiceArn, i.DomainName),
      DescribeCustomDomains: (c, i) => domains.describe(c, i),
      CreateVpcConnector: (c, i) => vpc.create(c, i),
      DescribeVpcConnector: (c, i) => vpc.describe(c, i.VpcConnectorArn),
      ListVpcConnectors: (c, i) => vpc.list(c, i),
      DeleteVpcConnector: (c, i) => vpc.delete(c, i.VpcConnectorArn),
      CreateVpcIngressConnection: (c, i) => vic.create(c, i),
      DescribeVpcIngressConnection: (c, i) => vic.describe(c, i.VpcIngressConnectionArn),
      ListVpcIngressConnections: (c, i) => vic.list(c, i),
      UpdateVpcIngressConnection: (c, i) => vic.update(c, i),
      DeleteVpcIngressConnection: (c, i) => vic.delete(c, i.VpcIngressConnectionArn),
      CreateConnection: (c, i) => connections.create(c, i),
      ListConnections: (c, i) => connections.list(c, i),
      DeleteConnection: (c, i) => connections.delete(c, i.ConnectionArn),
      CreateObservabilityConfiguration: (c, i) => obs.create(c, i),
      DescribeObservabilityConfiguration: (c, i) => obs.describe(c, i.ObservabilityConfigurationArn),
      ListObservabilityConfigurations: (c, i) => obs.list(c, i),
      DeleteObservabilityConfiguration: (c, i) => obs.delete(c, i.ObservabilityConfigurationArn),
      TagResource: (c, i) => tags.tagResource(c, i.ResourceArn, i.Tags),
      UntagResource: (c, i) => tags.untagResource(c, i.ResourceArn, i.TagKeys),
      ListTagsForResource: (c, i) => tags.listTagsForResource(c, i.ResourceArn),
    };
  }

  async dispatch(ctx: CallContext, action: string, input: unknown): Promise<unknown> {
    if (!isActionName(action)) throw new UnknownOperationException(`Unknown operation ${action}`);
    const mutating = !/^(Describe|List)/.test(action);
    let body: Record<string, unknown>;
    try {
      body = validateInput(action, input);
    } catch (e) {
      // A request the model refuses changed nothing; its audit copy is the bounded, redacted raw input.
      if (mutating) await this.audit.recordSafely(ctx, action, input, undefined, errorCode(e));
      throw e;
    }
    let output: unknown;
    try {
      output = await this.handlers[action](ctx, body);
    } catch (e) {
      if (mutating) await this.audit.recordSafely(ctx, action, body, undefined, errorCode(e));
      throw e;
    }
    // The handler committed: from here on nothing may turn its answer into an error (a client retrying a create
    // that answered 500 would make it twice), so the audit write reports its own failure in the log only.
    if (mutating) await this.audit.recordSafely(ctx, action, body, output, 'Success');
    return output;
  }
}

function errorCode(e: unknown): string {
  return e instanceof AppRunnerError ? e.code : 'InternalServiceErrorException';
}
