import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatConfigErrors, parseApprunnerYaml, type ApprunnerConfig, type ConfigError } from './apprunner-yaml';

const FIXTURES = join(__dirname, '__fixtures__');
const GUIDE = resolve(__dirname, '../../../../shared/reference/app-runner-developer-guide.ja.txt');

function parsed(text: string): ApprunnerConfig {
  const result = parseApprunnerYaml(text);
  if (!result.ok) throw new Error(formatConfigErrors(result.errors));
  return result.config;
}

function errorsOf(text: string): ConfigError[] {
  const result = parseApprunnerYaml(text);
  if (result.ok) throw new Error('expected errors, the file parsed');
  return result.errors;
}

const EXAMPLE_SECRETS = [
  {
    name: 'my-secret',
    valueFrom: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:testingstackAppRunnerConstr-kJFXde2ULKbT-S7t8xR:username::',
  },
  { name: 'my-parameter', valueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/parameter-name' },
  { name: 'my-parameter-only-name', valueFrom: 'parameter-name' },
];
const DJANGO_BUILD_ENV = [
  { name: 'DJANGO_SETTINGS_MODULE', value: 'django_apprunner.settings' },
  { name: 'MY_VAR_EXAMPLE', value: 'example' },
];
const MY_VAR = [{ name: 'MY_VAR_EXAMPLE', value: 'example' }];
const WGET = 'wget -c https://s3.amazonaws.com/amzn-s3-demo-bucket/test-lib.tar.gz -O - | tar -xz';

/** The complete original-build file (python3), as the guide prints it three times. */
const COMPLETE_PYTHON3: ApprunnerConfig = {
  version: '1.0',
  runtime: 'PYTHON_3',
  runtimeName: 'python3',
  build: {
    commands: { preBuild: [WGET], build: ['pip install pipenv', 'pipenv install'], postBuild: ['python manage.py test'] },
    env: DJANGO_BUILD_ENV,
  },
  run: {
    runtimeVersion: '3.7.7',
    preRun: [],
    command: 'pipenv run gunicorn django_apprunner.wsgi --log-file -',
    network: { port: 8000, env: 'MY_APP_PORT' },
    env: MY_VAR,
    secrets: EXAMPLE_SECRETS,
  },
};

const COMPLETE_PYTHON311: ApprunnerConfig = {
  version: '1.0',
  runtime: 'PYTHON_311',
  runtimeName: 'python311',
  build: {
    commands: { preBuild: [WGET], build: ['pip3 install pipenv', 'pipenv install'], postBuild: ['python3 manage.py test'] },
    env: DJANGO_BUILD_ENV,
  },
  run: {
    runtimeVersion: '3.11',
    preRun: ['pip3 install pipenv', 'pipenv install', 'python3 copy-global-files.py'],
    command: 'pipenv run gunicorn django_apprunner.wsgi --log-file -',
    network: { port: 8000, env: 'MY_APP_PORT' },
    env: MY_VAR,
    secrets: EXAMPLE_SECRETS,
  },
};

/** Minimal files: no env, latest runtime version, default port and port variable (guide L7585-7589). */
function minimal(runtime: ApprunnerConfig['runtime'], runtimeName: string, build: string[], command: string): ApprunnerConfig {
  return {
    version: '1.0',
    runtime,
    runtimeName,
    build: { commands: { preBuild: [], build, postBuild: [] }, env: [] },
    run: { preRun: [], command, env: [], secrets: [] },
  };
}

/** Extended files of the original-build runtimes: every key but pre-run and secrets. */
function extended(
  runtime: ApprunnerConfig['runtime'],
  runtimeName: string,
  commands: { preBuild: string[]; build: string[]; postBuild: string[] },
  runtimeVersion: string,
  command: string,
  port: number,
  runEnv = MY_VAR,
  buildEnv = MY_VAR,
): ApprunnerConfig {
  return {
    version: '1.0',
    runtime,
    runtimeName,
    build: { commands, env: buildEnv },
    run: { runtimeVersion, preRun: [], command, network: { port, env: 'APP_PORT' }, env: runEnv, secrets: [] },
  };
}

const NODE_EXTENDED_COMMANDS = {
  preBuild: ['npm install --only=dev', 'node test.js'],
  build: ['npm install --production'],
  postBuild: ['node node_modules/ejs/postinstall.js'],
};
const PHP_SUPERVISORD: ApprunnerConfig = {
  version: '1.0',
  runtime: 'PHP_81',
  runtimeName: 'php81',
  build: {
    commands: { preBuild: [], build: ['PYTHON=python2 amazon-linux-extras install epel', 'yum -y install supervisor'], postBuild: [] },
    env: [],
  },
  run: { preRun: [], command: 'supervisord', network: { port: 8080, env: 'APP_PORT' }, env: [], secrets: [] },
};
const PHP_STARTUP: ApprunnerConfig = {
  ...minimal('PHP_81', 'php81', ['echo example build command for PHP'], './startup.sh'),
  run: { preRun: [], command: './startup.sh', network: { port: 8080, env: 'APP_PORT' }, env: [], secrets: [] },
};
const scripts = (build: string) => ({ preBuild: ['scripts/prebuild.sh'], build: [build], postBuild: ['scripts/postbuild.sh'] });

/** What each of the guide's example files means, keyed by the guide line it starts at. */
const MEANING: Record<string, ApprunnerConfig> = {
  L1696: minimal('PYTHON_3', 'python3', ['pip install pipenv', 'pipenv install'], 'python app.py'),
  L1720: COMPLETE_PYTHON3,
  L1772: COMPLETE_PYTHON311,
  L1856: minimal('PYTHON_3', 'python3', ['pip install -r requirements.txt'], 'python server.py'),
  L2043: minimal('NODEJS_22', 'nodejs22', ['npm install --production'], 'node app.js'),
  L2064: extended('NODEJS_22', 'nodejs22', NODE_EXTENDED_COMMANDS, '22.14.0', 'node app.js', 8000),
  L2105: {
    ...extended('NODEJS_22', 'nodejs22', NODE_EXTENDED_COMMANDS, '22.14.0', 'node app.js', 8000),
    run: {
      runtimeVersion: '22.14.0',
      preRun: ['node copy-global-files.js'],
      command: 'node app.js',
      network: { port: 8000, env: 'APP_PORT' },
      env: MY_VAR,
      secrets: [],
    },
  },
  L2197: {
    version: '1.0',
    runtime: 'NODEJS_22',
    runtimeName: 'nodejs22',
    build: {
      commands: {
        preBuild: ['npm install grunt grunt-cli', 'npm install --only=dev', 'npm run build'],
        build: ['npm install --production'],
        postBuild: [],
      },
      env: [],
    },
    run: { runtimeVersion: '22.14.0', preRun: [], command: 'node app.js', network: { port: 8000, env: 'APP_PORT' }, env: [], secrets: [] },
  },
  L2331: minimal('CORRETTO_11', 'corretto11', ['mvn clean package'], 'java -Xms256m -jar target/MyApp-1.0-SNAPSHOT.jar .'),
  L2355: extended(
    'CORRETTO_11',
    'corretto11',
    { preBuild: ['yum install some-package', 'scripts/prebuild.sh'], build: ['mvn clean package'], postBuild: ['mvn clean test'] },
    '11.0.13.08.1',
    'java -Xms256m -jar target/MyApp-1.0-SNAPSHOT.jar .',
    8000,
    MY_VAR,
    [
      { name: 'M2', value: '/usr/local/apache-maven/bin' },
      { name: 'M2_HOME', value: '/usr/local/apache-maven/bin' },
    ],
  ),
  L2429: {
    ...minimal('CORRETTO_11', 'corretto11', ['mvn clean package'], ''),
    run: {
      preRun: [],
      command: 'java -Xms256m -jar target/HelloWorldJavaApp-1.0-SNAPSHOT.jar .',
      network: { port: 8080 },
      env: [],
      secrets: [],
    },
  },
  L2611: minimal('DOTNET_6', 'dotnet6', ['dotnet publish -c Release -o out'], 'dotnet out/HelloWorldDotNetApp.dll'),
  L2632: extended('DOTNET_6', 'dotnet6', scripts('dotnet publish -c Release -o out'), '6.0.9', 'dotnet out/HelloWorldDotNetApp.dll', 5000, [
    { name: 'ASPNETCORE_URLS', value: 'http://*:5000' },
  ]),
  L2672: {
    ...minimal('DOTNET_6', 'dotnet6', ['dotnet publish -c Release -o out'], ''),
    run: {
      preRun: [],
      command: 'dotnet out/HelloWorldDotNetApp.dll',
      network: { port: 5000, env: 'APP_PORT' },
      env: [{ name: 'ASPNETCORE_URLS', value: 'http://*:5000' }],
      secrets: [],
    },
  },
  L2844: minimal('PHP_81', 'php81', ['echo example build command for PHP'], './startup.sh'),
  L2865: extended('PHP_81', 'php81', scripts('echo example build command for PHP'), '8.1.10', './startup.sh', 5000),
  L2938: PHP_SUPERVISORD,
  L3010: PHP_STARTUP,
  L3087: PHP_SUPERVISORD,
  L3161: PHP_STARTUP,
  L3274: minimal('RUBY_31', 'ruby31', ['bundle install'], 'bundle exec rackup --host 0.0.0.0 -p 8080'),
  L3295: extended('RUBY_31', 'ruby31', scripts('bundle install'), '3.1.2', 'bundle exec rackup --host 0.0.0.0 -p 4567', 4567),
  L3359: {
    ...minimal('RUBY_31', 'ruby31', ['bundle install'], ''),
    run: {
      preRun: [],
      command: 'bundle exec rackup --host 0.0.0.0 -p 4567',
      network: { port: 4567, env: 'APP_PORT' },
      env: [],
      secrets: [],
    },
  },
  L3446: minimal('GO_1', 'go1', ['go build main.go'], './main'),
  L3467: extended('GO_1', 'go1', scripts('go build main.go'), '1.18.7', './main', 3000),
  L3519: {
    ...minimal('GO_1', 'go1', ['go build main.go'], ''),
    run: { preRun: [], command: './main', network: { port: 3000, env: 'APP_PORT' }, env: [], secrets: [] },
  },
  L5645: {
    ...minimal('PYTHON_3', 'python3', ['python -m pip install flask'], ''),
    run: {
      preRun: [],
      command: 'python app.py',
      network: { port: 8080 },
      env: MY_VAR,
      secrets: [
        { name: 'my-secret', valueFrom: 'arn:aws:secretsmanager:<region>:<aws_account_id>:secret:XXXXXXXXXXXX' },
        { name: 'my-parameter', valueFrom: 'arn:aws:ssm:<region>:<aws_account_id>:parameter/<parameter-name>' },
        { name: 'my-parameter-only-name', valueFrom: 'parameter-name' },
      ],
    },
  },
  L7095: {
    ...minimal('PYTHON_3', 'python3', ['pip install -r requirements.txt', 'opentelemetry-bootstrap --action=install'], ''),
    run: {
      preRun: [],
      command: 'opentelemetry-instrument python app.py',
      network: { port: 8080 },
      env: [
        { name: 'OTEL_PROPAGATORS', value: 'xray' },
        { name: 'OTEL_METRICS_EXPORTER', value: 'none' },
        { name: 'OTEL_PYTHON_ID_GENERATOR', value: 'xray' },
        { name: 'OTEL_PYTHON_DISABLED_INSTRUMENTATIONS', value: 'urllib3' },
        { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'service.name=example_app' },
      ],
      secrets: [],
    },
  },
  L7594: minimal('PYTHON_3', 'python3', ['pip install pipenv', 'pipenv install'], 'python app.py'),
  L7612: COMPLETE_PYTHON3,
  L7661: COMPLETE_PYTHON311,
};

describe("the guide's example apprunner.yaml files", () => {
  const files = readdirSync(FIXTURES).filter((f) => /^guide-L\d+-.*\.yaml$/.test(f));

  it('are all here: one fixture per example, each with a meaning to check', () => {
    expect(files).toHaveLength(31);
    expect(files.map((f) => f.split('-')[1]).sort()).toEqual(Object.keys(MEANING).sort());
  });

  for (const file of files) {
    const line = file.split('-')[1];
    it(`${file} parses and means what the guide says`, () => {
      const text = readFileSync(join(FIXTURES, file), 'utf8');
      expect(text.split('\n')[0]).toMatch(
        new RegExp(`^# AWS App Runner developer guide \\(ja\\): app-runner-developer-guide\\.ja\\.txt ${line}-L\\d+$`),
      );
      expect(parsed(text)).toEqual(MEANING[line]);
    });
  }

  // The guide is not part of the repository: its text lives beside the checkout (../shared/reference), which the
  // project's own folder has and a clean clone elsewhere (CI's) does not; the fixtures' meaning is checked above either way.
  it.skipIf(!existsSync(GUIDE))(
    `differ from the guide text only in whitespace (indentation lost at page breaks, wrapped lines)${existsSync(GUIDE) ? '' : ' (skipped: no ../shared/reference beside this checkout)'}`,
    () => {
      const guide = readFileSync(GUIDE, 'utf8').split('\n');
      for (const file of files) {
        const text = readFileSync(join(FIXTURES, file), 'utf8');
        const [, from, to] = /L(\d+)-L(\d+)/.exec(text)!.map(Number);
        expect(guide[from - 1].trimEnd(), `${file}: the example starts at L${from}`).toBe('version: 1.0');
        expect(guide[to].startsWith('```'), `${file}: the example ends at L${to}`).toBe(true);
        const original = guide.slice(from - 1, to).filter((l) => !l.startsWith('```'));
        const body = text.split('\n').filter((l) => !l.startsWith('#'));
        expect(body.join('').replace(/\s+/g, ''), file).toBe(original.join('').replace(/\s+/g, ''));
        if (text.includes('# Copied verbatim.')) expect(body.join('\n').trimEnd(), file).toBe(original.map((l) => l.trimEnd()).join('\n'));
      }
    },
  );
});

describe('the guide text as the PDF prints it', () => {
  it('L2672 (.NET complete app): network and env at the top level are unknown keys, with where they belong', () => {
    const text = [
      'version: 1.0',
      'runtime: dotnet6',
      'build:',
      '  commands:',
      '    build:',
      '      - dotnet publish -c Release -o out',
      'run:',
      '  command: dotnet out/HelloWorldDotNetApp.dll',
      'network:',
      '  port: 5000',
      '  env: APP_PORT',
      'env:',
      '  - name: ASPNETCORE_URLS',
      '    value: "http://*:5000"',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      {
        line: 9,
        column: 1,
        path: 'network',
        message: 'Unknown key "network" in the top section. network belongs under run.network. Allowed keys: version, runtime, build, run.',
      },
      {
        line: 12,
        column: 1,
        path: 'env',
        message:
          'Unknown key "env" in the top section. env belongs under run.env or build.env. Allowed keys: version, runtime, build, run.',
      },
    ]);
  });

  it('L3519 (Go complete app): "env: APP_PORT" under run is not a list of variables', () => {
    const text = [
      'version: 1.0',
      'runtime: go1',
      'build:',
      '  commands:',
      '    build:',
      '      - go build main.go',
      'run:',
      '  command: ./main',
      '  network:',
      '    port: 3000',
      '  env: APP_PORT',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      { line: 11, column: 8, path: 'run.env', message: 'run.env must be a list of "- name: …" / "value: …" entries, got "APP_PORT".' },
    ]);
  });
});

const MINIMAL = [
  'version: 1.0',
  'runtime: python3',
  'build:',
  '  commands:',
  '    build:',
  '      - pip install -r requirements.txt',
  'run:',
  '  command: python server.py',
];
const withRun = (...lines: string[]) => [...MINIMAL, ...lines].join('\n');

describe('parseApprunnerYaml: values', () => {
  it('keeps YAML 1.1 booleans as text where text is expected (core schema)', () => {
    const config = parsed(
      [
        'version: 1.0',
        'runtime: nodejs22',
        'build:',
        '  commands:',
        '    build:',
        '      - yes',
        '  env:',
        '    - name: CI',
        '      value: on',
        '    - name: DEBUG',
        '      value: no',
        '    - name: FLAG',
        '      value: true',
        '    - name: COUNT',
        '      value: 010',
        'run:',
        '  command: off',
        '  env:',
        '    - name: NORWAY',
        '      value: NO',
        '    - name: RATIO',
        '      value: 1.50',
      ].join('\n'),
    );
    expect(config.build?.commands.build).toEqual(['yes']);
    expect(config.build?.env).toEqual([
      { name: 'CI', value: 'on' },
      { name: 'DEBUG', value: 'no' },
      { name: 'FLAG', value: 'true' },
      { name: 'COUNT', value: '010' },
    ]);
    expect(config.run.command).toBe('off');
    expect(config.run.env).toEqual([
      { name: 'NORWAY', value: 'NO' },
      { name: 'RATIO', value: '1.50' },
    ]);
  });

  it('reads version 1.0 written as a number or a string, and runtime-version as written (3.10 is not 3.1)', () => {
    expect(parsed(MINIMAL.join('\n').replace('version: 1.0', 'version: "1.0"')).version).toBe('1.0');
    expect(parsed(withRun('  runtime-version: 3.8')).run.runtimeVersion).toBe('3.8');
    const errors = errorsOf(withRun('  runtime-version: 3.10'));
    expect(errors).toEqual([
      { line: 9, column: 20, path: 'run.runtime-version', message: expect.stringContaining('runtime-version "3.10" is outside python3') },
    ]);
  });

  it('keeps multi-line commands and follows aliases', () => {
    const config = parsed(
      [
        'version: 1.0',
        'runtime: python311',
        'build:',
        '  commands:',
        '    build:',
        '      - |',
        '        pip3 install -r requirements.txt',
        '        echo "done"',
        '  env:',
        '    - name: SETTINGS',
        '      value: &settings app.settings',
        'run:',
        '  command: gunicorn app:app',
        '  network:',
        '    port: "8000"',
        '  env:',
        '    - name: SETTINGS',
        '      value: *settings',
      ].join('\n'),
    );
    expect(config.build?.commands.build).toEqual(['pip3 install -r requirements.txt\necho "done"\n']);
    expect(config.run.env).toEqual([{ name: 'SETTINGS', value: 'app.settings' }]);
    expect(config.run.network).toEqual({ port: 8000 });
  });

  it('accepts a file without a build section (the API allows no build command either)', () => {
    const config = parsed(['version: 1.0', 'runtime: python3', 'run:', '  command: python app.py'].join('\n'));
    expect(config.build).toBeUndefined();
    expect(config.run.command).toBe('python app.py');
  });
});

describe('parseApprunnerYaml: errors point at the offending line', () => {
  it('requires version, runtime and run', () => {
    expect(errorsOf('build:\n  commands:\n    build:\n      - make\n')).toEqual([
      { line: 1, column: 1, path: 'version', message: 'version is required.' },
      { line: 1, column: 1, path: 'runtime', message: 'runtime is required.' },
      { line: 1, column: 1, path: 'run', message: 'The run section is required (it holds the start command).' },
    ]);
  });

  it('refuses another version and an unknown runtime, listing the valid names', () => {
    const errors = errorsOf(MINIMAL.join('\n').replace('version: 1.0', 'version: 1').replace('runtime: python3', 'runtime: python39'));
    expect(errors).toEqual([
      { line: 1, column: 10, path: 'version', message: 'version must be 1.0 (the only configuration file version), got "1".' },
      {
        line: 2,
        column: 10,
        path: 'runtime',
        message:
          'Unknown runtime "python39". Valid runtimes: python3, python311, nodejs12, nodejs14, nodejs16, nodejs18, nodejs22, corretto11, corretto8, dotnet6, php81, ruby31, go1.',
      },
    ]);
    expect(errorsOf(MINIMAL.join('\n').replace('runtime: python3', 'runtime: Python311'))[0].message).toMatch(
      /^Unknown runtime "Python311" \(names are lower case: python311\)/,
    );
  });

  it('refuses pre-run on an original-build runtime, at the pre-run key', () => {
    expect(errorsOf(withRun('  pre-run:', '    - pip install gunicorn'))).toEqual([
      {
        line: 9,
        column: 3,
        path: 'run.pre-run',
        message:
          'pre-run is supported only by runtimes that use the revised App Runner build (python311, nodejs18, nodejs22); python3 uses the original build.',
      },
    ]);
  });

  it('names unknown keys and where a misplaced one belongs', () => {
    const text = [
      'version: 1.0',
      'runtime: python3',
      'build:',
      '  commands:',
      '    build:',
      '      - make',
      '    post_build:',
      '      - make test',
      'run:',
      '  command: ./app',
      '  port: 8000',
      '  network:',
      '    protocol: tcp',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      {
        line: 7,
        column: 5,
        path: 'build.commands.post_build',
        message: 'Unknown key "post_build" in build.commands. Allowed keys: pre-build, build, post-build.',
      },
      {
        line: 11,
        column: 3,
        path: 'run.port',
        message:
          'Unknown key "port" in run. port belongs under run.network.port. Allowed keys: runtime-version, pre-run, command, network, env, secrets.',
      },
      { line: 13, column: 5, path: 'run.network.protocol', message: 'Unknown key "protocol" in run.network. Allowed keys: port, env.' },
    ]);
  });

  it('requires build.commands.build when there is a build section, and run.command', () => {
    const text = [
      'version: 1.0',
      'runtime: go1',
      'build:',
      '  commands:',
      '    pre-build:',
      '      - go vet ./...',
      'run:',
      '  network:',
      '    port: 3000',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      {
        line: 4,
        column: 3,
        path: 'build.commands.build',
        message: 'build.commands.build is required: the commands that build your application.',
      },
      { line: 7, column: 1, path: 'run.command', message: 'run.command is required.' },
    ]);
  });

  it('refuses wrong types: a command string where a list is expected, a list where a command is expected', () => {
    const text = [
      'version: 1.0',
      'runtime: python3',
      'build:',
      '  commands:',
      '    build: pip install -r requirements.txt',
      'run:',
      '  command:',
      '    - python',
      '    - app.py',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      {
        line: 5,
        column: 12,
        path: 'build.commands.build',
        message: 'build.commands.build must be a list of commands ("- command" lines), got "pip install -r requirements.txt".',
      },
      { line: 8, column: 5, path: 'run.command', message: 'run.command must be a single value, not a list.' },
    ]);
    expect(errorsOf(withRun('  command: ""').replace('  command: python server.py\n', ''))).toEqual([
      { line: 8, column: 12, path: 'run.command', message: 'run.command must not be empty.' },
    ]);
    expect(
      errorsOf(['version: 1.0', 'runtime: python3', 'build:', '  commands:', '    build:', 'run:', '  command: x'].join('\n')),
    ).toEqual([
      {
        line: 5,
        column: 5,
        path: 'build.commands.build',
        message: 'build.commands.build must be a list of commands ("- command" lines) (it is empty).',
      },
    ]);
  });

  it('checks the port', () => {
    expect(errorsOf(withRun('  network:', '    port: 70000'))).toEqual([
      { line: 10, column: 11, path: 'run.network.port', message: 'run.network.port must be a port number from 1 to 65535, got "70000".' },
    ]);
    expect(errorsOf(withRun('  network:', '    port: http'))[0]).toMatchObject({
      line: 10,
      message: expect.stringContaining('got "http"'),
    });
    expect(errorsOf(withRun('  network: 8000'))).toEqual([
      { line: 9, column: 12, path: 'run.network', message: 'run.network must be a mapping (key: value lines), got "8000".' },
    ]);
  });

  it('checks env and secrets entries: names, values, reserved and duplicate names, references', () => {
    const text = withRun(
      '  network:', //                                  9
      '    env: APP_PORT', //                           10
      '  env:', //                                      11
      '    - name: PORT', //                            12
      '      value: "9000"', //                         13
      '    - name: APP_PORT', //                        14
      '      value: "1"', //                            15
      '    - name: EMPTY', //                           16
      '  secrets:', //                                  17
      '    - name: DB_PASSWORD', //                     18
      '      value-from: arn:aws:s3:::bucket/key', //   19
      '    - name: APP_PORT', //                        20
      '      value-from: parameter-name', //            21
      '    - name: TOKEN', //                           22
      '      value: "x"', //                            23
    );
    expect(errorsOf(text)).toEqual([
      {
        line: 12,
        column: 13,
        path: 'run.env[0].name',
        message: 'PORT is reserved by App Runner (PORT and names starting with AWSAPPRUNNER).',
      },
      { line: 14, column: 13, path: 'run.env[1].name', message: 'APP_PORT is already defined in run.network.env.' },
      { line: 16, column: 7, path: 'run.env[2].value', message: 'run.env[2].value is required.' },
      {
        line: 19,
        column: 19,
        path: 'run.secrets[0].value-from',
        message: '"arn:aws:s3:::bucket/key" is not a Secrets Manager secret ARN or an SSM parameter ARN.',
      },
      { line: 20, column: 13, path: 'run.secrets[1].name', message: 'APP_PORT is already defined in run.env[1].' },
      { line: 22, column: 7, path: 'run.secrets[2].value-from', message: 'run.secrets[2].value-from is required.' },
      {
        line: 23,
        column: 7,
        path: 'run.secrets[2].value',
        message: 'Unknown key "value" in run.secrets[2]. value belongs under run.env (name + value). Allowed keys: name, value-from.',
      },
    ]);
  });

  it('wants build env names that build commands can use, and no line breaks in their values', () => {
    const text = [
      'version: 1.0',
      'runtime: python3',
      'build:',
      '  commands:',
      '    build:',
      '      - make',
      '  env:',
      '    - name: my-var',
      '      value: x',
      '    - name: MULTI',
      '      value: "a\\nb"',
      'run:',
      '  command: ./app',
    ].join('\n');
    expect(errorsOf(text)).toEqual([
      {
        line: 8,
        column: 13,
        path: 'build.env[0].name',
        message:
          '"my-var" is not a valid build environment variable name: use letters, digits and _, not starting with a digit (build commands refer to it by name).',
      },
      { line: 11, column: 14, path: 'build.env[1].value', message: 'Build environment values cannot contain line breaks.' },
    ]);
  });

  it('reports YAML syntax errors at their line, without schema noise', () => {
    const errors = errorsOf(['version: 1.0', 'runtime: python3', 'run:', '  command: a', '  command: b'].join('\n'));
    expect(errors).toEqual([{ line: 5, column: 3, path: '', message: expect.stringMatching(/^YAML syntax: Map keys must be unique/) }]);
    const bad = errorsOf(['version: 1.0', 'run:', '  command: "unterminated', 'runtime: python3'].join('\n'));
    expect(bad.length).toBeGreaterThan(0);
    expect(bad.every((e) => e.message.startsWith('YAML syntax: '))).toBe(true);
    expect(bad[0].line).toBeGreaterThanOrEqual(3);
  });

  it('explains an empty file and a file that is not a mapping', () => {
    expect(errorsOf('')).toEqual([{ line: 1, column: 1, path: '', message: expect.stringMatching(/^The file is empty/) }]);
    expect(errorsOf('# only a comment\n')).toEqual([
      { line: 1, column: 1, path: '', message: expect.stringMatching(/^The file is empty/) },
    ]);
    expect(errorsOf('- version: 1.0\n')).toEqual([
      { line: 1, column: 1, path: '', message: 'The file must be a mapping (key: value lines), got a list.' },
    ]);
  });

  it('formats errors as file:line:column path: message', () => {
    expect(formatConfigErrors(errorsOf(withRun('  pre-run:', '    - x')), 'services/api/apprunner.yaml')).toBe(
      'services/api/apprunner.yaml:9:3 run.pre-run: pre-run is supported only by runtimes that use the revised App Runner build (python311, nodejs18, nodejs22); python3 uses the original build.',
    );
  });
});
