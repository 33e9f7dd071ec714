import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildPlan } from './build-plan';
import { effectiveConfig, type EffectiveBuildConfig } from './effective';
import { runtimeImage } from './runtimes';
import { expectGolden as expectGoldenFile } from '../../../test/support/golden';

const FIXTURES = join(__dirname, '__fixtures__');
const GOLDEN_DIR = join(__dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function fromFixture(line: string): EffectiveBuildConfig {
  const file = readdirSync(FIXTURES).find((f) => f.startsWith(`guide-${line}-`))!;
  const result = effectiveConfig({
    codeConfiguration: { ConfigurationSource: 'REPOSITORY' },
    fileText: readFileSync(join(FIXTURES, file), 'utf8'),
  });
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function baseImage(config: EffectiveBuildConfig): string {
  const image = runtimeImage(config.runtime, config.runtimeVersion, {});
  if ('error' in image) throw new Error(image.error);
  return image.image;
}

const CASES: Record<string, () => ReturnType<typeof buildPlan>> = {
  // Original build, every phase: the guide's extended Corretto 11 file.
  'original-corretto11': () => {
    const config = fromFixture('L2355');
    return buildPlan(config, { baseImage: baseImage(config), sourceDirectory: '/services/api' });
  },
  // Revised build, every phase: the guide's complete revised-build file (Python 3.11).
  'revised-python311': () => {
    const config = fromFixture('L7661');
    return buildPlan(config, { baseImage: baseImage(config) });
  },
  // Revised build without post-build or pre-run: the Grunt example (Node.js 22).
  'revised-nodejs22-grunt': () => {
    const config = fromFixture('L2197');
    return buildPlan(config, { baseImage: baseImage(config) });
  },
};

function expectGolden(name: string, actual: string): void {
  expectGoldenFile(GOLDEN_DIR, `${name}.Containerfile`, actual);
}

/** The argv of every `RUN [...]` / `CMD [...]` line, parsed back from JSON. */
function execLines(containerfile: string, instruction: 'RUN' | 'CMD'): string[][] {
  return containerfile
    .split('\n')
    .filter((l) => l.startsWith(`${instruction} [`))
    .map((l) => JSON.parse(l.slice(instruction.length + 1)) as string[]);
}

function config(overrides: Partial<EffectiveBuildConfig> = {}): EffectiveBuildConfig {
  return {
    runtime: 'NODEJS_22',
    preBuild: [],
    build: ['npm ci'],
    postBuild: [],
    buildEnv: {},
    preRun: [],
    startCommand: 'node server.js',
    port: 8080,
    runtimeEnv: {},
    runtimeSecrets: {},
    ...overrides,
  };
}

describe('golden Containerfiles', () => {
  for (const [name, build] of Object.entries(CASES)) {
    it(`${name} matches __golden__/${name}.Containerfile`, () => {
      expectGolden(name, build().containerfile);
    });
  }

  it('detects a change: another start command no longer matches its golden file', () => {
    if (UPDATE) return;
    const changed = buildPlan(
      { ...fromFixture('L7661'), startCommand: 'gunicorn other:app' },
      { baseImage: 'public.ecr.aws/docker/library/python:3.11.14' },
    );
    expect(changed.containerfile).not.toBe(readFileSync(join(GOLDEN_DIR, 'revised-python311.Containerfile'), 'utf8'));
  });

  it('is deterministic', () => {
    for (const build of Object.values(CASES)) expect(build()).toEqual(build());
  });
});

describe('buildPlan: original build (one stage)', () => {
  const plan = CASES['original-corretto11']();

  it('builds from the source directory and returns what the Deployment needs', () => {
    expect(plan.contextDirectory).toBe('services/api');
    expect(plan.port).toBe(8000);
    expect(plan.startCommand).toBe('java -Xms256m -jar target/MyApp-1.0-SNAPSHOT.jar .');
    expect(plan.runtimeEnv).toEqual({ MY_VAR_EXAMPLE: 'example' });
    expect(plan.runtimeSecrets).toEqual({});
  });

  it('runs pre-build, build and post-build in order in one stage', () => {
    expect(plan.containerfile.match(/^FROM /gm)).toHaveLength(1);
    expect(execLines(plan.containerfile, 'RUN').map((argv) => argv[2])).toEqual([
      'yum install some-package',
      'scripts/prebuild.sh',
      'mvn clean package',
      'mvn clean test',
    ]);
    expect(execLines(plan.containerfile, 'CMD')).toEqual([['/bin/sh', '-c', 'java -Xms256m -jar target/MyApp-1.0-SNAPSHOT.jar .']]);
  });

  it('passes build env as ARG (not stored in the image) and bakes only the port variable', () => {
    expect(plan.containerfile).toContain('ARG M2="/usr/local/apache-maven/bin"\n');
    expect(plan.containerfile).not.toMatch(/^ENV M2/m);
    expect(plan.containerfile).toContain('ENV APP_PORT="8000"\nEXPOSE 8000\n');
    // Runtime variables are the Deployment's business.
    expect(plan.containerfile).not.toContain('MY_VAR_EXAMPLE');
  });
});

describe('buildPlan: revised build (build stage, run stage with only /app)', () => {
  const plan = CASES['revised-python311']();
  const stages = plan.containerfile.split(/\n(?=FROM )/).filter((s) => s.startsWith('FROM '));

  it('has a build stage, a post-build stage from it and a run stage from the same base', () => {
    expect(stages.map((s) => s.split('\n').find((l) => l.startsWith('FROM ')))).toEqual([
      'FROM public.ecr.aws/docker/library/python:3.11.14 AS build',
      'FROM build AS post-build',
      'FROM public.ecr.aws/docker/library/python:3.11.14 AS run',
    ]);
    const [build, postBuild, run] = stages;
    expect(execLines(build, 'RUN').map((a) => a[2])).toEqual([
      'wget -c https://s3.amazonaws.com/amzn-s3-demo-bucket/test-lib.tar.gz -O - | tar -xz',
      'pip3 install pipenv',
      'pipenv install',
    ]);
    expect(execLines(postBuild, 'RUN').map((a) => a[2])).toEqual(['python3 manage.py test']);
    expect(execLines(run, 'RUN').map((a) => a[2])).toEqual(['pip3 install pipenv', 'pipenv install', 'python3 copy-global-files.py']);
    expect(run).toContain('COPY --from=build /app /app\n');
    expect(run).toContain('COPY --from=post-build /.apprunner-post-build/ /app/\n');
  });

  it('gives pre-run the build env (and only that), and every stage that runs build commands', () => {
    for (const stage of stages) expect(stage).toContain('ARG DJANGO_SETTINGS_MODULE="django_apprunner.settings"\n');
    expect(plan.runtimeSecrets).toEqual({
      'my-secret': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:testingstackAppRunnerConstr-kJFXde2ULKbT-S7t8xR:username::',
      'my-parameter': 'arn:aws:ssm:us-east-1:123456789012:parameter/parameter-name',
      'my-parameter-only-name': 'parameter-name',
    });
    expect(plan.containerfile).not.toContain('arn:aws');
  });

  it('leaves out the post-build stage and the run-stage ARGs when there is nothing to run', () => {
    const grunt = CASES['revised-nodejs22-grunt']().containerfile;
    expect(grunt.match(/^FROM /gm)).toHaveLength(2);
    expect(grunt).not.toContain('post-build');
    expect(grunt).not.toContain('ARG ');
  });
});

describe('buildPlan: quoting', () => {
  it('carries any command text exactly, through JSON exec form', () => {
    const commands = [`echo "it's" $HOME \\ done`, 'printf "a\\nb" | tr -d \'\\n\'', 'line one\nline two', 'echo ] [ "{}"'];
    const plan = buildPlan(config({ build: commands, startCommand: `sh -c "exec node 'server.js'"` }), { baseImage: 'node:22' });
    expect(execLines(plan.containerfile, 'RUN')).toEqual(commands.map((c) => ['/bin/sh', '-c', c]));
    expect(execLines(plan.containerfile, 'CMD')).toEqual([['/bin/sh', '-c', `sh -c "exec node 'server.js'"`]]);
    // One line per instruction, whatever the command holds.
    expect(plan.containerfile.split('\n').filter((l) => l.startsWith('RUN'))).toHaveLength(4);
  });

  it('escapes ARG and ENV values so the Containerfile neither expands $ nor drops \\ and "', () => {
    const plan = buildPlan(config({ buildEnv: { GREETING: 'say "hi" to $USER \\o/' }, portEnvName: 'APP_PORT', port: 9000 }), {
      baseImage: 'node:22',
    });
    expect(plan.containerfile).toContain('ARG GREETING="say \\"hi\\" to \\$USER \\\\o/"\n');
    expect(plan.containerfile).toContain('ENV APP_PORT="9000"\n');
  });

  it('refuses what a Containerfile cannot carry', () => {
    expect(() => buildPlan(config(), { baseImage: 'node:22\nRUN rm -rf /' })).toThrow(
      'Base image "node:22\nRUN rm -rf /" is not an image reference.',
    );
    expect(() => buildPlan(config({ buildEnv: { 'my-var': 'x' } }), { baseImage: 'node:22' })).toThrow(
      /"my-var" cannot be passed to build commands/,
    );
    expect(() => buildPlan(config({ buildEnv: { A: 'x\ny' } }), { baseImage: 'node:22' })).toThrow(/A has a line break/);
    expect(() => buildPlan(config({ portEnvName: 'APP PORT' }), { baseImage: 'node:22' })).toThrow(
      /"APP PORT" is not a valid environment variable name/,
    );
    expect(() => buildPlan(config({ port: 0 }), { baseImage: 'node:22' })).toThrow('Port 0 is not a port number.');
    expect(() => buildPlan(config(), { baseImage: 'node:22', sourceDirectory: '../other' })).toThrow(/must stay inside the repository/);
  });

  it('normalizes the context directory', () => {
    expect(buildPlan(config(), { baseImage: 'node:22' }).contextDirectory).toBe('.');
    expect(buildPlan(config(), { baseImage: 'node:22', sourceDirectory: '/' }).contextDirectory).toBe('.');
    expect(buildPlan(config(), { baseImage: 'node:22', sourceDirectory: './apps//web/' }).contextDirectory).toBe('apps/web');
  });
});
