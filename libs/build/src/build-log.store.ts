import { Injectable } from '@nestjs/common';
import { BuildRepository } from '@apprunner/persistence';

/** Largest chunk row; output beyond it is split. */
const CHUNK_CHARS = 64 * 1024;
/** Builds keep at most this much output (the tail beyond it is dropped with a note): a runaway build can't fill the database. */
export const MAX_BUILD_LOG_CHARS = 16 * 1024 * 1024;

/**
 * Build output, stored in order as it arrives (BuildLogChunk rows numbered per build), so readers can stream it
 * while the build runs and fetch it afterwards. Writers buffer and flush in batches; `flush` also touches the build
 * row, which is how other workers tell a running build from one whose worker died.
 */
export class BuildLogWriter {
  private buffer = '';
  private written = 0;
  private timer?: NodeJS.Timeout;
  private chain: Promise<void> = Promise.resolve();
  private truncated = false;

  constructor(
    private readonly builds: BuildRepository,
    private readonly buildId: string,
    private readonly flushMs = 500,
  ) {}

  write(text: string): void {
    if (this.truncated) return;
    if (this.written + this.buffer.length + text.length > MAX_BUILD_LOG_CHARS) {
      this.buffer += `${text.slice(0, Math.max(0, MAX_BUILD_LOG_CHARS - this.written - this.buffer.length))}\n[build output truncated at ${MAX_BUILD_LOG_CHARS} characters]\n`;
      this.truncated = true;
    } else {
      this.buffer += text;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes what is buffered; resolves when every earlier write is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const text = this.buffer;
    this.buffer = '';
    this.chain = this.chain.then(() => (text ? this.store(text) : undefined)).catch(() => undefined);
    return this.chain;
  }

  private async store(text: string): Promise<void> {
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += CHUNK_CHARS) parts.push(text.slice(i, i + CHUNK_CHARS));
    await this.builds.appendLog(this.buildId, parts);
    this.written += text.length;
  }
}

@Injectable()
export class BuildLogStore {
  constructor(private readonly builds: BuildRepository) {}

  writer(buildId: string, flushMs?: number): BuildLogWriter {
    return new BuildLogWriter(this.builds, buildId, flushMs);
  }

  /** Chunks after `afterSeq`, in order, and whether the build has ended (then nothing more will come). */
  async read(buildId: string, afterSeq: number, limit = 200): Promise<{ chunks: { seq: number; text: string }[]; ended: boolean }> {
    const { chunks, build } = await this.builds.readLog(buildId, afterSeq, limit);
    const last = chunks.length > 0 ? chunks[chunks.length - 1].seq : afterSeq;
    const ended = !build || ((build.status === 'SUCCEEDED' || build.status === 'FAILED') && last >= build.logSeq - 1);
    return { chunks, ended };
  }
}
