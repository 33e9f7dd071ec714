// A JSON import: tsc emits `require('../model/apprunner-2020-05-15.json')`, which resolves both from
// the sources and from dist/libs/api-model/src/ (nest build copies the model to dist/libs/api-model/model/).
import raw from '../model/apprunner-2020-05-15.json';

/** A reference from a structure member, list member or map key/value to a shape. */
export interface ShapeRef {
  readonly shape: string;
  readonly documentation?: string;
}

interface ShapeBase {
  readonly documentation?: string;
  /** Never echo values of this shape (error messages, logs). */
  readonly sensitive?: boolean;
}

export interface StructureShape extends ShapeBase {
  readonly type: 'structure';
  readonly members: Readonly<Record<string, ShapeRef>>;
  readonly required?: readonly string[];
  readonly exception?: boolean;
}
export interface StringShape extends ShapeBase {
  readonly type: 'string';
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
}
export interface NumberShape extends ShapeBase {
  readonly type: 'integer' | 'long' | 'float' | 'double';
  readonly min?: number;
  readonly max?: number;
}
export interface ListShape extends ShapeBase {
  readonly type: 'list';
  readonly member: ShapeRef;
  readonly min?: number;
  readonly max?: number;
}
export interface MapShape extends ShapeBase {
  readonly type: 'map';
  readonly key: ShapeRef;
  readonly value: ShapeRef;
  readonly min?: number;
  readonly max?: number;
}
export interface ScalarShape extends ShapeBase {
  readonly type: 'boolean' | 'timestamp' | 'blob';
}
export type Shape = StructureShape | StringShape | NumberShape | ListShape | MapShape | ScalarShape;

export interface Operation {
  readonly name: string;
  readonly documentation?: string;
  readonly input?: ShapeRef;
  readonly output?: ShapeRef;
  readonly errors?: readonly ShapeRef[];
}

/** The 37 App Runner actions, as the model names them (X-Amz-Target `AppRunner.<Action>`). */
export const ACTION_NAMES = [
  'AssociateCustomDomain',
  'CreateAutoScalingConfiguration',
  'CreateConnection',
  'CreateObservabilityConfiguration',
  'CreateService',
  'CreateVpcConnector',
  'CreateVpcIngressConnection',
  'DeleteAutoScalingConfiguration',
  'DeleteConnection',
  'DeleteObservabilityConfiguration',
  'DeleteService',
  'DeleteVpcConnector',
  'DeleteVpcIngressConnection',
  'DescribeAutoScalingConfiguration',
  'DescribeCustomDomains',
  'DescribeObservabilityConfiguration',
  'DescribeService',
  'DescribeVpcConnector',
  'DescribeVpcIngressConnection',
  'DisassociateCustomDomain',
  'ListAutoScalingConfigurations',
  'ListConnections',
  'ListObservabilityConfigurations',
  'ListOperations',
  'ListServices',
  'ListServicesForAutoScalingConfiguration',
  'ListTagsForResource',
  'ListVpcConnectors',
  'ListVpcIngressConnections',
  'PauseService',
  'ResumeService',
  'StartDeployment',
  'TagResource',
  'UntagResource',
  'UpdateDefaultAutoScalingConfiguration',
  'UpdateService',
  'UpdateVpcIngressConnection',
] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

// Compile-time proof that the tuple is exactly the model's operation names (fails tsc if the model changes).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _actionsMatchModel: Same<ActionName, keyof typeof raw.operations> = true;
void _actionsMatchModel;

interface ServiceModel {
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly operations: Readonly<Record<ActionName, Operation>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}
/**
 * Where this platform deliberately accepts more than App Runner does. App Runner only pulls from Amazon ECR and
 * ECR Public, and its ImageIdentifier pattern only admits their host names; here any OCI registry the cluster can
 * reach stands in for ECR (docs/aws-mapping.md), so ImageIdentifier follows the OCI distribution reference grammar
 * (`[host[:port]/]path[:tag][@digest]`), which every ECR and ECR Public identifier also satisfies.
 */
export const PLATFORM_PATTERN_OVERRIDES: Readonly<Record<string, string>> = {
  ImageIdentifier:
    '^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?\\/)?' +
    '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*' +
    '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$',
};

// The inferred JSON type widens `type` to string; the model is botocore's, so the narrower view is safe.
const botocore = raw as unknown as ServiceModel;
const model: ServiceModel = {
  ...botocore,
  shapes: Object.fromEntries(
    Object.entries(botocore.shapes).map(([name, shape]) =>
      shape.type === 'string' && PLATFORM_PATTERN_OVERRIDES[name] !== undefined
        ? [name, { ...shape, pattern: PLATFORM_PATTERN_OVERRIDES[name] }]
        : [name, shape],
    ),
  ),
};

const ACTIONS: ReadonlySet<string> = new Set(ACTION_NAMES);
export function isActionName(name: string): name is ActionName {
  return ACTIONS.has(name);
}

export function hasShape(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(model.shapes, name);
}

export function getShape(name: string): Shape {
  if (!hasShape(name)) throw new Error(`Unknown App Runner shape ${name}`);
  return model.shapes[name];
}

export function getOperation(action: ActionName): Operation {
  return model.operations[action];
}

/** Every App Runner operation has an input and an output shape; both are structures. */
export function inputShapeName(action: ActionName): string {
  return getOperation(action).input?.shape ?? missing(action, 'input');
}
export function outputShapeName(action: ActionName): string {
  return getOperation(action).output?.shape ?? missing(action, 'output');
}
function missing(action: string, what: string): never {
  throw new Error(`App Runner operation ${action} has no ${what} shape`);
}

export const SHAPE_NAMES: readonly string[] = Object.keys(model.shapes);

/** AWS names members in validation messages lowerCamelCase: ServiceName → serviceName. */
export function memberPathName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}
