import { describe, expect, it } from 'vitest';
import { InvalidRequestException } from '../../core/src/errors';
import { ACTION_NAMES, type ActionName, getShape, inputShapeName, isActionName, memberPathName } from './model';
import { toJsPattern } from './pattern';
import { SKIPPED_PATTERNS, validateInput, validationErrors } from './validate';

const IMAGE = 'public.ecr.aws/aws-containers/hello-app-runner:latest';

/** A CreateService input that touches most of the model: nested structures, a list, both maps, enums, ints. */
function goodCreateService(): Record<string, unknown> {
  return {
    ServiceName: 'my-service_1',
    SourceConfiguration: {
      AutoDeploymentsEnabled: false,
      ImageRepository: {
        ImageIdentifier: IMAGE,
        ImageRepositoryType: 'ECR_PUBLIC',
        ImageConfiguration: {
          Port: '8080',
          StartCommand: 'node server.js --secret-flag',
          RuntimeEnvironmentVariables: { NODE_ENV: 'production', EMPTY: '' },
          RuntimeEnvironmentSecrets: { DB_PASSWORD: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:db' },
        },
      },
    },
    InstanceConfiguration: { Cpu: '1 vCPU', Memory: '2048', InstanceRoleArn: 'arn:aws:iam::123456789012:role/app' },
    HealthCheckConfiguration: { Protocol: 'HTTP', Path: '/health', Interval: 5, Timeout: 2, HealthyThreshold: 1, UnhealthyThreshold: 5 },
    NetworkConfiguration: { EgressConfiguration: { EgressType: 'DEFAULT' }, IngressConfiguration: { IsPubliclyAccessible: true } },
    Tags: [
      { Key: 'team', Value: 'web' },
      { Key: 'empty', Value: '' },
    ],
    SomethingAwsDoesNotKnow: { ignored: [1, 2, 3] },
  };
}

/** The error validateInput throws (fails the test when it does not throw). */
function errorOf(action: ActionName, input: unknown): InvalidRequestException {
  try {
    validateInput(action, input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidRequestException);
    return e as InvalidRequestException;
  }
  throw new Error(`expected ${action} to reject ${JSON.stringify(input)}`);
}

function messageOf(action: ActionName, input: unknown): string {
  return errorOf(action, input).message;
}

const SOURCE = { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'ECR_PUBLIC' } };
const PREFIX = '1 validation error detected: ';

describe('validateInput', () => {
  it('accepts a complete, valid CreateService input (unknown members ignored, null members absent)', () => {
    expect(validationErrors('CreateService', goodCreateService())).toEqual([]);
    expect(() => validateInput('CreateService', goodCreateService())).not.toThrow();
    expect(() =>
      validateInput('CreateService', { ServiceName: 'abcd', SourceConfiguration: SOURCE, Tags: null, InstanceConfiguration: null }),
    ).not.toThrow();
  });

  it('treats a missing body as {} and rejects a body that is not an object', () => {
    expect(() => validateInput('ListServices', undefined)).not.toThrow();
    expect(() => validateInput('ListServices', null)).not.toThrow();
    expect(messageOf('ListServices', [])).toBe(`${PREFIX}The request body must be a JSON object`);
    expect(messageOf('ListServices', 'x')).toBe(`${PREFIX}The request body must be a JSON object`);
  });

  it('reports each constraint kind with App Runner’s exact text', () => {
    const create = (extra: Record<string, unknown>) =>
      messageOf('CreateService', { ServiceName: 'my-service', SourceConfiguration: SOURCE, ...extra });
    // must not be null
    expect(messageOf('CreateService', { ServiceName: 'my-service' })).toBe(
      `${PREFIX}Value null at 'sourceConfiguration' failed to satisfy constraint: Member must not be null`,
    );
    // length, both ends; a length failure is the value's only error even though 'ab' misses the pattern too
    expect(create({ ServiceName: 'ab' })).toBe(
      `${PREFIX}Value 'ab' at 'serviceName' failed to satisfy constraint: Member must have length greater than or equal to 4`,
    );
    expect(create({ ServiceName: 'a'.repeat(41) })).toBe(
      `${PREFIX}Value '${'a'.repeat(41)}' at 'serviceName' failed to satisfy constraint: Member must have length less than or equal to 40`,
    );
    // pattern, anchored to the whole value but printed as the model has it
    expect(create({ ServiceName: 'my service' })).toBe(
      `${PREFIX}Value 'my service' at 'serviceName' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9][A-Za-z0-9-_]{3,39}`,
    );
    expect(create({ ServiceName: 'my-service!' })).toMatch(/regular expression pattern/); // a prefix match is not enough
    // enum
    expect(
      messageOf('CreateService', {
        ServiceName: 'my-service',
        SourceConfiguration: { ImageRepository: { ImageIdentifier: IMAGE, ImageRepositoryType: 'DOCKERHUB' } },
      }),
    ).toBe(
      `${PREFIX}Value 'DOCKERHUB' at 'sourceConfiguration.imageRepository.imageRepositoryType' failed to satisfy constraint: Member must satisfy enum value set: [ECR, ECR_PUBLIC]`,
    );
    // numeric range, both ends
    expect(messageOf('CreateAutoScalingConfiguration', { AutoScalingConfigurationName: 'high', MaxConcurrency: 201 })).toBe(
      `${PREFIX}Value '201' at 'maxConcurrency' failed to satisfy constraint: Member must have value less than or equal to 200`,
    );
    expect(messageOf('ListServices', { MaxResults: 0 })).toBe(
      `${PREFIX}Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1`,
    );
  });

  it('reports wrong JSON types as violations', () => {
    const asc = (extra: Record<string, unknown>) =>
      messageOf('CreateAutoScalingConfiguration', { AutoScalingConfigurationName: 'high', ...extra });
    expect(asc({ MaxConcurrency: 'abc' })).toBe(
      `${PREFIX}Value 'abc' at 'maxConcurrency' failed to satisfy constraint: Member must be an integer`,
    );
    expect(asc({ MaxConcurrency: 1.5 })).toBe(
      `${PREFIX}Value '1.5' at 'maxConcurrency' failed to satisfy constraint: Member must be an integer`,
    );
    expect(asc({ MaxSize: 2 ** 31 })).toMatch(/Member must be an integer$/);
    expect(asc({ AutoScalingConfigurationName: 1234 })).toBe(
      `${PREFIX}Value '1234' at 'autoScalingConfigurationName' failed to satisfy constraint: Member must be a string`,
    );
    expect(asc({ Tags: { Key: 'a' } })).toBe(`${PREFIX}Value '{Key=a}' at 'tags' failed to satisfy constraint: Member must be an array`);
    expect(messageOf('CreateService', { ServiceName: 'my-service', SourceConfiguration: 'x' })).toBe(
      `${PREFIX}Value 'x' at 'sourceConfiguration' failed to satisfy constraint: Member must be an object`,
    );
    expect(
      messageOf('CreateService', { ServiceName: 'my-service', SourceConfiguration: { ...SOURCE, AutoDeploymentsEnabled: 'yes' } }),
    ).toBe(`${PREFIX}Value 'yes' at 'sourceConfiguration.autoDeploymentsEnabled' failed to satisfy constraint: Member must be a boolean`);
  });

  it('counts and joins several errors, required members first', () => {
    expect(messageOf('CreateService', { InstanceConfiguration: { Cpu: '3 vCPU' }, SourceConfiguration: SOURCE })).toBe(
      "2 validation errors detected: Value null at 'serviceName' failed to satisfy constraint: Member must not be null; " +
        "Value '3 vCPU' at 'instanceConfiguration.cpu' failed to satisfy constraint: Member must satisfy regular expression pattern: 256|512|1024|2048|4096|(0.25|0.5|1|2|4) vCPU",
    );
    expect(messageOf('CreateService', { ServiceName: 'x' })).toMatch(/^2 validation errors detected: /);
    expect(messageOf('CreateService', { ServiceName: 'ab', InstanceConfiguration: { Cpu: '3 vCPU', Memory: '3 TB' } })).toMatch(
      /^4 validation errors detected: /,
    );
  });

  it('names nested members, list elements (1-based) and map entries', () => {
    const tags = [{ Key: 'ok', Value: 'v' }, { Key: 'aws:reserved', Value: 'v' }, { Value: 'no key' }, null];
    expect(validationErrors('TagResource', { ResourceArn: 'arn:aws:apprunner:us-east-1:123456789012:service/a/b', Tags: tags })).toEqual([
      "Value 'aws:reserved' at 'tags.2.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!aws:).+",
      "Value null at 'tags.4.member' failed to satisfy constraint: Member must not be null",
    ]);
    expect(
      validationErrors('UntagResource', { ResourceArn: 'arn:aws:apprunner:us-east-1:123456789012:service/a/b', TagKeys: ['a', ''] }),
    ).toEqual(["Value '' at 'tagKeys.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1"]);
    const input = goodCreateService();
    const image = ((input.SourceConfiguration as Record<string, unknown>).ImageRepository as Record<string, unknown>)
      .ImageConfiguration as Record<string, unknown>;
    image.RuntimeEnvironmentSecrets = { A: 'x', B: '' };
    expect(validationErrors('CreateService', input)).toEqual([
      "Value at 'sourceConfiguration.imageRepository.imageConfiguration.runtimeEnvironmentSecrets.2' failed to satisfy constraint: Member must have length greater than or equal to 1",
    ]);
    expect(
      validationErrors('CreateService', { ServiceName: 'my-service', SourceConfiguration: { CodeRepository: { CodeConfiguration: {} } } }),
    ).toEqual([
      "Value null at 'sourceConfiguration.codeRepository.repositoryUrl' failed to satisfy constraint: Member must not be null",
      "Value null at 'sourceConfiguration.codeRepository.sourceCodeVersion' failed to satisfy constraint: Member must not be null",
      "Value null at 'sourceConfiguration.codeRepository.codeConfiguration.configurationSource' failed to satisfy constraint: Member must not be null",
    ]);
  });

  it('never echoes sensitive values, nor the keys of maps with sensitive keys', () => {
    const input = goodCreateService();
    const image = ((input.SourceConfiguration as Record<string, unknown>).ImageRepository as Record<string, unknown>)
      .ImageConfiguration as Record<string, unknown>;
    image.StartCommand = 'echo hunter2\nrm -rf /';
    image.RuntimeEnvironmentVariables = { OK: 'fine', SECRET_NAME: 'hunter2\nline2' };
    const message = messageOf('CreateService', input);
    expect(message).toBe(
      '2 validation errors detected: ' +
        "Value at 'sourceConfiguration.imageRepository.imageConfiguration.runtimeEnvironmentVariables.2' failed to satisfy constraint: Member must satisfy regular expression pattern: .*; " +
        "Value at 'sourceConfiguration.imageRepository.imageConfiguration.startCommand' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\x0a\\x0d]+",
    );
    expect(message).not.toContain('hunter2');
    expect(message).not.toContain('SECRET_NAME');
    image.StartCommand = 42;
    image.RuntimeEnvironmentVariables = ['hunter2'];
    expect(validationErrors('CreateService', input)).toEqual([
      "Value at 'sourceConfiguration.imageRepository.imageConfiguration.runtimeEnvironmentVariables' failed to satisfy constraint: Member must be an object",
      "Value at 'sourceConfiguration.imageRepository.imageConfiguration.startCommand' failed to satisfy constraint: Member must be a string",
    ]);
  });

  it('measures string length in code points', () => {
    const arn = 'arn:aws:apprunner:us-east-1:123456789012:service/a/b';
    const tag = (value: string) => validationErrors('TagResource', { ResourceArn: arn, Tags: [{ Key: 'k', Value: value }] });
    expect(tag('😀'.repeat(256))).toEqual([]); // 512 UTF-16 units, 256 code points
    expect(tag('😀'.repeat(257))[0]).toMatch(
      /at 'tags.1.member.value' failed to satisfy constraint: Member must have length less than or equal to 256$/,
    );
  });

  it('lets the error class cap long messages at 600 characters', () => {
    const message = messageOf('TagResource', { Tags: Array.from({ length: 50 }, () => ({ Key: 'aws:x'.repeat(20) })) });
    expect(message.length).toBe(600);
    expect(message).toMatch(/^51 validation errors detected: Value null at 'resourceArn'/);
    expect(message.endsWith('...')).toBe(true);
  });

  it('validates {} for every action with exactly the model’s required members as "must not be null"', () => {
    expect(ACTION_NAMES).toHaveLength(37);
    for (const action of ACTION_NAMES) {
      const shape = getShape(inputShapeName(action));
      if (shape.type !== 'structure') throw new Error(`${action} input is not a structure`);
      const expected = (shape.required ?? []).map(
        (m) => `Value null at '${memberPathName(m)}' failed to satisfy constraint: Member must not be null`,
      );
      expect(validationErrors(action, {}), action).toEqual(expected);
    }
  });

  it('requires what App Runner requires (hard-coded, independent of the model walk)', () => {
    expect(validationErrors('CreateService', {})).toEqual([
      "Value null at 'serviceName' failed to satisfy constraint: Member must not be null",
      "Value null at 'sourceConfiguration' failed to satisfy constraint: Member must not be null",
    ]);
    expect(messageOf('DescribeService', {})).toBe(
      `${PREFIX}Value null at 'serviceArn' failed to satisfy constraint: Member must not be null`,
    );
    expect(() => validateInput('ListServices', {})).not.toThrow();
  });

  it('knows the action names', () => {
    expect(isActionName('CreateService')).toBe(true);
    expect(isActionName('CreateBucket')).toBe(false);
    expect(isActionName('toString')).toBe(false);
  });
});

describe('patterns', () => {
  it('compiles every pattern of the model', () => {
    expect(SKIPPED_PATTERNS).toEqual([]);
  });
  it('anchors, keeps JavaScript-compatible escapes, and refuses Java-only syntax', () => {
    expect(toJsPattern('[0-9]{12}')?.regex.test('123456789012x')).toBe(false);
    expect(toJsPattern('a|b')?.regex.test('ab')).toBe(false); // the anchors wrap the whole alternation
    expect(toJsPattern('[\\w\\:]+')).toMatchObject({ source: '^(?:[\\w:]+)$', flags: 'u' });
    expect(toJsPattern('\\p{L}+')?.regex.test('Åß')).toBe(true);
    expect(toJsPattern('abc\\z')).toBeUndefined();
    expect(toJsPattern('\\p{javaLowerCase}+')).toBeUndefined();
    expect(toJsPattern('a*+')).toBeUndefined(); // possessive quantifier
  });
});

describe('platform pattern overrides', () => {
  const withImage = (ImageIdentifier: string) =>
    validationErrors('CreateService', {
      ServiceName: 'my-service',
      SourceConfiguration: { ImageRepository: { ImageIdentifier, ImageRepositoryType: 'ECR' } },
    });
  it('accepts any OCI image reference, ECR and ECR Public included', () => {
    for (const ref of [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:1.0',
      'public.ecr.aws/nginx/nginx:1.27',
      'registry.internal:5000/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      'nginx',
      'ghcr.io/org/my_app-x:v1.2.3-rc.1',
    ]) {
      expect(withImage(ref), ref).toEqual([]);
    }
  });
  it('rejects what no registry could serve', () => {
    for (const ref of ['Nginx', 'registry.internal/team/app:', 'registry.internal//app', 'app@sha256:xyz', 'a b', '-lead/app']) {
      expect(withImage(ref).join(), ref).toMatch(
        /imageIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern/,
      );
    }
  });
});

describe('hostile values', () => {
  /** `{"a":{"a":…}}` nested `levels` deep, built without recursion. */
  const nested = (levels: number): unknown => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i++) value = { a: value };
    return value;
  };

  it('renders a deeply nested value in a message without overflowing the stack', () => {
    const message = messageOf('DescribeService', { ServiceArn: nested(100_000) });
    expect(message).toMatch(
      /^1 validation error detected: Value '\{a=\{a=.*\{\.\.\.\}.*' at 'serviceArn' failed to satisfy constraint: Member must be a string$/,
    );
    expect(message.length).toBeLessThan(600);
  });

  it('returns only modeled members, at every level, so nothing unmodeled reaches a handler', () => {
    const input: Record<string, unknown> = { ...goodCreateService(), Deep: nested(100_000) };
    (input.SourceConfiguration as Record<string, unknown>).Extra = nested(50);
    const modeled = validateInput('CreateService', input);
    expect(Object.keys(modeled)).toEqual(
      expect.arrayContaining(['ServiceName', 'SourceConfiguration', 'InstanceConfiguration', 'HealthCheckConfiguration', 'Tags']),
    );
    expect(modeled).not.toHaveProperty('Deep');
    expect(modeled).not.toHaveProperty('SomethingAwsDoesNotKnow');
    expect(modeled.SourceConfiguration).not.toHaveProperty('Extra');
    expect((modeled.SourceConfiguration as { ImageRepository: unknown }).ImageRepository).toEqual(
      (goodCreateService().SourceConfiguration as { ImageRepository: unknown }).ImageRepository,
    );
  });
});
