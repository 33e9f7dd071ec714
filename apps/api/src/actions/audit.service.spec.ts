import { describe, expect, it } from 'vitest';
import { redact } from './audit.service';

describe('audit redaction', () => {
  it('masks sensitive members and survives any nesting (the walk is bounded)', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200_000; i++) deep = { a: deep };
    const copy = redact({
      ServiceName: 'web',
      SourceConfiguration: {
        ImageRepository: { ImageConfiguration: { StartCommand: 'run --token=s3cret', RuntimeEnvironmentVariables: { DB: 'pw' } } },
      },
      Unmodeled: deep,
    }) as Record<string, any>;
    expect(copy.SourceConfiguration.ImageRepository.ImageConfiguration).toEqual({
      StartCommand: '***',
      RuntimeEnvironmentVariables: { DB: '***' },
    });
    expect(JSON.stringify(copy)).toContain('[nested too deeply]');
    expect(JSON.stringify(copy)).not.toContain('s3cret');
  });

  it('keeps only the size of a refused request too large to keep', () => {
    expect(redact({ ServiceName: 'x'.repeat(100_000) })).toEqual({
      truncated: expect.stringMatching(/request of \d+ characters not kept/),
    });
  });
});
