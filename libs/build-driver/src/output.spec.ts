import { describe, expect, it } from 'vitest';
import { BuildOutput, LOG_TAIL_LINES } from './output';

/** Feeds `text` in chunks of `size` characters, as a pipe might deliver it. */
function feed(text: string, size = 7): BuildOutput {
  const out = new BuildOutput();
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

describe('BuildOutput', () => {
  it('names the failing RUN step, its number and exit code from buildah output split at arbitrary points', () => {
    const out = feed(
      [
        'STEP 1/3: FROM 127.0.0.1:5000/platform/busybox:1',
        'STEP 2/3: COPY package.json /app/',
        '--> 70e94124110',
        'STEP 3/3: RUN npm ci',
        'npm ERR! missing script',
        'subprocess exited with status 1',
        'Error: building at STEP "RUN npm ci": exit status 1',
        '',
      ].join('\n'),
    );
    expect(out.buildFailureReason(1)).toBe('RUN step 3/3 "npm ci" exited with code 1');
    expect(out.lastStep()).toEqual({ index: 3, count: 3, instruction: 'RUN', args: 'npm ci' });
  });

  it('keeps the step header even when thousands of output lines follow it', () => {
    const noise = Array.from({ length: 5_000 }, (_, i) => `npm http fetch ${i}`).join('\n');
    const out = feed(`STEP 4/6: RUN npm ci\n${noise}\nError: building at STEP "RUN npm ci": exit status 137\n`, 4096);
    expect(out.buildFailureReason(137)).toBe('RUN step 4/6 "npm ci" exited with code 137');
    const tail = out.tail().split('\n');
    expect(tail).toHaveLength(LOG_TAIL_LINES + 1); // 50 lines and the final newline
    expect(tail[LOG_TAIL_LINES - 1]).toBe('Error: building at STEP "RUN npm ci": exit status 137');
    expect(tail[0]).toBe('npm http fetch 4951');
  });

  it('reports the stage of a multi-stage build and a command containing quotes and ": "', () => {
    const out = feed(
      [
        '[1/2] STEP 1/2: FROM base AS deps',
        '[2/2] STEP 2/2: RUN echo "a": b && exit 7',
        'Error: building at STEP "RUN echo "a": b && exit 7": exit status 7',
      ].join('\n') + '\n',
    );
    expect(out.buildFailureReason(7)).toBe('RUN step 2/2 of stage 2/2 "echo \\"a\\": b && exit 7" exited with code 7');
  });

  it('uses the step as written for exec-form RUN and shortens long commands', () => {
    const long = `RUN ["sh", "-c", "${'x'.repeat(200)}"]`;
    const out = feed(`STEP 2/2: ${long}\nError: building at STEP "RUN sh -c ${'x'.repeat(200)}": exit status 2\n`);
    const reason = out.buildFailureReason(2);
    expect(reason).toMatch(/^RUN step 2\/2 "\[\\"sh\\", \\"-c\\", \\"x+\.\.\." exited with code 2$/);
    expect(reason.length).toBeLessThan(120);
  });

  it("describes a non-RUN step failure with buildah's message", () => {
    const out = feed(
      'STEP 2/2: COPY nope.txt /\nError: building at STEP "COPY nope.txt /": checking on sources under "/ctx": copier: stat: "/nope.txt": no such file or directory\n',
    );
    expect(out.buildFailureReason(125)).toBe(
      'COPY step 2/2 "nope.txt /" failed: checking on sources under "/ctx": copier: stat: "/nope.txt": no such file or directory',
    );
  });

  it('falls back to the last Error line, then to the exit code', () => {
    const pull = feed('STEP 1/2: FROM r/x:1\nError: creating build container: reading manifest 1 in r/x: manifest unknown\n');
    expect(pull.buildFailureReason(125)).toBe('creating build container: reading manifest 1 in r/x: manifest unknown');
    expect(feed('STEP 1/1: FROM scratch\nkilled\n').buildFailureReason(null)).toBe('buildah build exited with a signal');
    expect(feed('').buildFailureReason(2)).toBe('buildah build exited with code 2');
  });

  it('keeps an unterminated last line in the tail and bounds very long lines', () => {
    const out = new BuildOutput();
    out.push('one\ntwo');
    expect(out.tail()).toBe('one\ntwo\n');
    out.push('x'.repeat(100_000));
    expect(out.tail().length).toBeLessThanOrEqual(16 * 1024 + 1);
    expect(new BuildOutput().tail()).toBe('');
  });
});
