/**
 * Reading buildah's output as it streams: the last lines (for `BuildFailedError.logTail`), the step being run and
 * the final `Error:` line (for `BuildFailedError.reason`). The step header may be thousands of lines before the
 * error (`npm ci` is chatty), so it is tracked separately from the tail.
 */
export const LOG_TAIL_LINES = 50;
/** Long lines (minified output, progress bars) must not make the tail unbounded. */
const MAX_TAIL_CHARS = 16 * 1024;
const MAX_COMMAND_CHARS = 80;
const MAX_MESSAGE_CHARS = 300;

/** `STEP 3/5: RUN npm ci`, with a `[2/2] ` stage prefix in multi-stage builds. */
const STEP_LINE = /^(?:\[(\d+)\/(\d+)\] )?STEP (\d+)\/(\d+): (\S+)(?: (.*))?$/;
/** `Error: building at STEP "RUN npm ci": exit status 1` (the command may itself contain `": `). */
const STEP_EXIT = /^Error: building at STEP "(\S+)(?: (.*))?": exit status (\d+)$/;
/** `Error: building at STEP "COPY a /": checking on sources under ...` */
const STEP_ERROR = /^Error: building at STEP "(\S+)(?: (.*?))?": (.*)$/;

export interface StepHeader {
  stage?: { index: number; count: number };
  index: number;
  count: number;
  instruction: string;
  args: string;
}

export class BuildOutput {
  private lines: string[] = [];
  private partial = '';
  private step: StepHeader | undefined;
  private error: string | undefined;

  /** Feeds one chunk of output (any split, lines may span chunks). */
  push(chunk: string): void {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.addLine(line);
    // A line without its newline yet still belongs in the tail if the process dies now.
    if (this.partial.length > MAX_TAIL_CHARS) {
      this.addLine(this.partial);
      this.partial = '';
    }
  }

  /** The last `LOG_TAIL_LINES` lines, newline-terminated. */
  tail(): string {
    const lines = this.partial ? [...this.lines, this.partial] : this.lines;
    let text = lines.slice(-LOG_TAIL_LINES).join('\n');
    if (text.length > MAX_TAIL_CHARS) text = text.slice(-MAX_TAIL_CHARS);
    return text === '' ? '' : `${text}\n`;
  }

  lastStep(): StepHeader | undefined {
    return this.step;
  }

  /** The message of the last `Error: ...` line buildah printed (without the prefix). */
  lastError(): string | undefined {
    return this.error;
  }

  /** Short reason for a `buildah build` that exited with `exitCode`. */
  buildFailureReason(exitCode: number | null): string {
    const errorLine = this.error === undefined ? undefined : `Error: ${this.error}`;
    const exit = errorLine === undefined ? null : STEP_EXIT.exec(errorLine);
    const other = errorLine === undefined || exit ? null : STEP_ERROR.exec(errorLine);
    const match = exit ?? other;
    if (match) {
      const [, instruction, printedArgs = ''] = match;
      // The step header shows the instruction as written (exec form included); the error line re-joins it.
      const step = this.step && this.step.instruction === instruction.toUpperCase() ? this.step : undefined;
      const args = step ? step.args : printedArgs;
      const where = `${instruction.toUpperCase()} step${step ? ` ${describeStep(step)}` : ''} ${JSON.stringify(shorten(args, MAX_COMMAND_CHARS))}`;
      return exit ? `${where} exited with code ${match[3]}` : `${where} failed: ${shorten(match[3], MAX_MESSAGE_CHARS)}`;
    }
    if (this.error !== undefined) return shorten(this.error, MAX_MESSAGE_CHARS);
    return `buildah build exited with ${exitCode === null ? 'a signal' : `code ${exitCode}`}`;
  }

  private addLine(line: string): void {
    this.lines.push(line);
    if (this.lines.length > LOG_TAIL_LINES * 2) this.lines = this.lines.slice(-LOG_TAIL_LINES);
    const step = STEP_LINE.exec(line);
    if (step) {
      const [, stage, stages, index, count, instruction, args = ''] = step;
      this.step = {
        ...(stage ? { stage: { index: Number(stage), count: Number(stages) } } : {}),
        index: Number(index),
        count: Number(count),
        instruction: instruction.toUpperCase(),
        args,
      };
    }
    if (line.startsWith('Error: ')) this.error = line.slice('Error: '.length).trim();
  }
}

function describeStep(step: StepHeader): string {
  const stage = step.stage && step.stage.count > 1 ? ` of stage ${step.stage.index}/${step.stage.count}` : '';
  return `${step.index}/${step.count}${stage}`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
