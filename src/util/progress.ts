/**
 * Progress for long work. On a terminal: one bar redrawn in place, with rate and ETA. Elsewhere (CI, pipes,
 * log files): a plain line every 10% or every 15 s, whichever comes first, so logs stay readable.
 * Always on stderr, so `--json` output on stdout stays clean. HCC_PROGRESS=bar|plain|none overrides the choice.
 */
export interface Progress {
  /** Advance by `n` units; `info` is a short status such as "loss 0.412". */
  tick(n?: number, info?: string): void;
  /** Set the absolute position. */
  update(done: number, info?: string): void;
  /** Finish the bar and print the elapsed time. */
  done(info?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  mode?: 'bar' | 'plain' | 'none';
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function chooseMode(stream: NodeJS.WriteStream): 'bar' | 'plain' | 'none' {
  const forced = process.env.HCC_PROGRESS;
  if (forced === 'bar' || forced === 'plain' || forced === 'none') return forced;
  return stream.isTTY && !process.env.CI ? 'bar' : 'plain';
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode ?? chooseMode(stream);
  const total = Math.max(0, options.total);
  const unit = options.unit ?? '';
  const start = performance.now();
  let position = 0;
  let lastDraw = 0;
  let lastPlainFraction = -1;
  let lastPlainTime = start;
  let finished = false;

  const line = (info?: string): string => {
    const elapsed = (performance.now() - start) / 1000;
    const fraction = total > 0 ? Math.min(1, position / total) : 0;
    const eta = position > 0 ? (elapsed * (total - position)) / position : Infinity;
    const counts = `${position}/${total}${unit ? ' ' + unit : ''}`;
    const tail = `${counts} ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}${info ? ' | ' + info : ''}`;
    if (mode === 'bar') {
      const width = 24;
      const filled = Math.round(fraction * width);
      return `${options.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${tail}`;
    }
    return `${options.label}: ${(fraction * 100).toFixed(0)}% ${tail}`;
  };

  const draw = (info?: string, force = false): void => {
    if (mode === 'none' || finished) return;
    const now = performance.now();
    if (mode === 'bar') {
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const columns = stream.columns || 120;
      stream.write('\r' + line(info).slice(0, columns - 1).padEnd(Math.min(columns - 1, 80)));
      return;
    }
    const fraction = total > 0 ? position / total : 0;
    const step = Math.floor(fraction * 10);
    if (force || step > lastPlainFraction || now - lastPlainTime > 15000) {
      lastPlainFraction = step;
      lastPlainTime = now;
      stream.write(line(info) + '\n');
    }
  };

  return {
    tick(n = 1, info) {
      position += n;
      draw(info);
    },
    update(done, info) {
      position = done;
      draw(info);
    },
    done(info) {
      if (finished) return;
      position = Math.max(position, total);
      const elapsed = formatDuration((performance.now() - start) / 1000);
      if (mode === 'bar') {
        draw(info, true);
        stream.write('\n');
      } else if (mode === 'plain') {
        stream.write(`${options.label}: done in ${elapsed}${info ? ' | ' + info : ''}\n`);
      }
      finished = true;
    },
  };
}
