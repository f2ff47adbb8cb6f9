import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Direct children of a process, from /proc (Linux). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    try {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (list) found.push(...list.split(/\s+/).map(Number));
    } catch {
      // The task ended while we looked.
    }
  }
  return found;
}

/**
 * `node_modules/.bin/tsx` runs the program in a child `node` process and relays SIGTERM and
 * SIGINT to it, but a SIGKILL or SIGSTOP sent to tsx never reaches that child: it would go
 * on running, orphaned. This is the pid that really runs `src/cli/main.ts`.
 */
export function programPid(child: ChildProcess): number {
  const tsx = child.pid;
  if (tsx === undefined) throw new Error('the process has no pid (not started?)');
  // Started as `node --import tsx src/cli/main.ts`: the child is the program itself.
  try {
    if (readFileSync(`/proc/${tsx}/cmdline`, 'utf8').includes('--import')) return tsx;
  } catch {
    // Gone already: fall through to the search, which reports it.
  }
  for (const pid of childrenOf(tsx)) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes('src/cli/main.ts')) return pid;
    } catch {
      // Gone already.
    }
  }
  throw new Error(`no node process under tsx ${tsx}`);
}

/** Sends a signal to the program itself (and, for SIGKILL, to the tsx wrapper after it). */
export function signalProgram(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = programPid(child);
  process.kill(pid, signal);
  // tsx exits by itself once its child is killed; make sure, without waiting on it.
  if (signal === 'SIGKILL' && child.exitCode === null) child.kill('SIGKILL');
}
