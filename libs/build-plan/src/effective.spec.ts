import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { effectiveConfig, type EffectiveBuildConfig } from './effective';

const FIXTURES = join(__dirname, '__fixtures__');
const fixture = (line: string) =>
  readFileSync(
    join(
      FIXTURES,
      readdirSync(FIXTURES).find((f) => f.startsWith(`guide-${line}-`))!,
    ),
    'utf8',
  );

/** Values that must never leak into a REPOSITORY build. */
const API_VALUES = {
  Runtime: 'NODEJS_22' as const,
  BuildCommand: 'npm ci',
  StartCommand: 'node server.js',
  Port: '3000',
  RuntimeEnvironmentVariables: { FROM_API: '1' },
  RuntimeEnvironmentSecrets: { API_SECRET: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:api' },
};

function ok(result: ReturnType<typeof effectiveConfig>): EffectiveBuildConfig {
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

describe('effectiveConfig: ConfigurationSource REPOSITORY', () => {
  it('takes everything from apprunner.yaml and ignores CodeConfigurationValues', () => {
    const config = ok(
      effectiveConfig({
        codeConfiguration: { ConfigurationSource: 'REPOSITORY', CodeConfigurationValues: API_VALUES },
        fileText: fixture('L7661'),
        sourceDirectory: '/',
      }),
    );
    expect(config).toEqual({
      runtime: 'PYTHON_311',
      runtimeVersion: '3.11',
      preBuild: ['wget -c https://s3.amazonaws.com/amzn-s3-demo-bucket/test-lib.tar.gz -O - | tar -xz'],
      build: ['pip3 install pipenv', 'pipenv install'],
      postBuild: ['python3 manage.py test'],
      buildEnv: { DJANGO_SETTINGS_MODULE: 'django_apprunner.settings', MY_VAR_EXAMPLE: 'example' },
      preRun: ['pip3 install pipenv', 'pipenv install', 'python3 copy-global-files.py'],
      startCommand: 'pipenv run gunicorn django_apprunner.wsgi --log-file -',
      port: 8000,
      portEnvName: 'MY_APP_PORT',
      runtimeEnv: { MY_VAR_EXAMPLE: 'example' },
      runtimeSecrets: {
        'my-secret': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:testingstackAppRunnerConstr-kJFXde2ULKbT-S7t8xR:username::',
        'my-parameter': 'arn:aws:ssm:us-east-1:123456789012:parameter/parameter-name',
        'my-parameter-only-name': 'parameter-name',
      },
    });
  });

  it("applies the minimal file's assumptions: default port 8080, no port variable, no lock, no env", () => {
    expect(ok(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: fixture('L7594') }))).toEqual({
      runtime: 'PYTHON_3',
      preBuild: [],
      build: ['pip install pipenv', 'pipenv install'],
      postBuild: [],
      buildEnv: {},
      preRun: [],
      startCommand: 'python app.py',
      port: 8080,
      runtimeEnv: {},
      runtimeSecrets: {},
    });
  });

  it('names the expected file when the repository has none', () => {
    expect(
      effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: undefined, sourceDirectory: '/services/api/' }),
    ).toEqual({
      ok: false,
      errors:
        'ConfigurationSource is REPOSITORY, but the repository has no /services/api/apprunner.yaml: add the App Runner configuration file to the source directory, or set ConfigurationSource to API with CodeConfigurationValues.',
    });
    const root = effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: undefined });
    expect(!root.ok && root.errors).toMatch(/has no \/apprunner\.yaml:/);
  });

  it("returns the file's errors with their lines", () => {
    const result = effectiveConfig({
      codeConfiguration: { ConfigurationSource: 'REPOSITORY' },
      fileText: 'version: 1.0\nruntime: python3\nrun:\n  command: [a]\n',
    });
    expect(result).toEqual({
      ok: false,
      errors: [{ line: 4, column: 12, path: 'run.command', message: 'run.command must be a single value, not a list.' }],
    });
  });

  it('refuses an old PHP lock outside the repository root (guide: PHP 8.1.22 or later)', () => {
    const file = fixture('L2865'); // php81, runtime-version 8.1.10
    const nested = effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: file, sourceDirectory: '/php' });
    expect(nested).toEqual({
      ok: false,
      errors:
        'runtime-version 8.1.10 (PHP 8.1.10) can only build from the repository root; SourceDirectory /php needs PHP 8.1.22 or later.',
    });
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: file, sourceDirectory: '/' }).ok).toBe(
      true,
    );
    const newer = file.replace('runtime-version: 8.1.10', 'runtime-version: 8.1.22');
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: newer, sourceDirectory: '/php' }).ok).toBe(
      true,
    );
    // "8.1" resolves to the newest 8.1 release, which is recent enough.
    const minor = file.replace('runtime-version: 8.1.10', 'runtime-version: 8.1');
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'REPOSITORY' }, fileText: minor, sourceDirectory: '/php' }).ok).toBe(
      true,
    );
  });
});

describe('effectiveConfig: ConfigurationSource API', () => {
  it('takes everything from CodeConfigurationValues and ignores the file, even a broken one', () => {
    const config = ok(
      effectiveConfig({
        codeConfiguration: { ConfigurationSource: 'API', CodeConfigurationValues: API_VALUES },
        fileText: 'this: [is not, valid',
        sourceDirectory: 'web',
      }),
    );
    expect(config).toEqual({
      runtime: 'NODEJS_22',
      preBuild: [],
      build: ['npm ci'],
      postBuild: [],
      buildEnv: {},
      preRun: [],
      startCommand: 'node server.js',
      port: 3000,
      runtimeEnv: { FROM_API: '1' },
      runtimeSecrets: { API_SECRET: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:api' },
    });
    expect(config.runtimeVersion).toBeUndefined();
    expect(config.portEnvName).toBeUndefined();
  });

  it('defaults Port to 8080 and allows no build command', () => {
    const config = ok(
      effectiveConfig({
        codeConfiguration: { ConfigurationSource: 'API', CodeConfigurationValues: { Runtime: 'GO_1', StartCommand: './main' } },
        fileText: undefined,
      }),
    );
    expect(config).toMatchObject({ runtime: 'GO_1', build: [], port: 8080, startCommand: './main', runtimeEnv: {}, runtimeSecrets: {} });
  });

  it('collects every problem of the values in one message', () => {
    const result = effectiveConfig({
      codeConfiguration: {
        ConfigurationSource: 'API',
        CodeConfigurationValues: {
          Runtime: 'PYTHON_39' as never,
          Port: '80a',
          RuntimeEnvironmentVariables: { PORT: '1', SHARED: 'x' },
          RuntimeEnvironmentSecrets: { SHARED: 'arn:aws:s3:::bucket' },
        },
      },
      fileText: undefined,
    });
    expect(result.ok).toBe(false);
    const message = !result.ok ? String(result.errors) : '';
    expect(message).toContain('CodeConfigurationValues.Runtime: Unknown runtime "PYTHON_39". Valid runtimes: PYTHON_3,');
    expect(message).toContain('CodeConfigurationValues.StartCommand is required');
    expect(message).toContain('CodeConfigurationValues.Port must be a port number from 1 to 65535, got "80a".');
    expect(message).toContain('RuntimeEnvironmentVariables: PORT is reserved by App Runner');
    expect(message).toContain(
      'RuntimeEnvironmentSecrets: "arn:aws:s3:::bucket" is not a Secrets Manager secret ARN or an SSM parameter ARN.',
    );
    expect(message).toContain('SHARED is both a RuntimeEnvironmentVariable and a RuntimeEnvironmentSecret.');
  });

  it('needs CodeConfigurationValues', () => {
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'API' }, fileText: 'version: 1.0' })).toEqual({
      ok: false,
      errors: 'ConfigurationSource is API, but CodeConfigurationValues is missing.',
    });
  });
});

describe('effectiveConfig: input checks', () => {
  it('refuses an unknown ConfigurationSource and a source directory outside the repository', () => {
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'GIT' as never }, fileText: undefined })).toEqual({
      ok: false,
      errors: 'CodeConfiguration.ConfigurationSource must be REPOSITORY or API, got "GIT".',
    });
    expect(
      effectiveConfig({
        codeConfiguration: { ConfigurationSource: 'REPOSITORY' },
        fileText: fixture('L7594'),
        sourceDirectory: '/app/../../etc',
      }),
    ).toEqual({
      ok: false,
      errors: 'SourceDirectory "/app/../../etc" must stay inside the repository (no ".." segments).',
    });
  });

  it('accepts the guide\'s spelling "Repository" (L4339)', () => {
    expect(effectiveConfig({ codeConfiguration: { ConfigurationSource: 'Repository' as never }, fileText: fixture('L7594') }).ok).toBe(
      true,
    );
  });
});
