/**
 * Whether a process group still has a living member. `kill(-group, 0)` alone is not enough: a
 * member whose parent died first (the shell of `sh -c 'node server.js'`, ended by the same
 * SIGTERM) is reparented to init and stays a zombie until init reaps it. A zombie holds no port,
 * no file and no memory, but some inits (a VM's or a container's) reap only every second or two,
 * and waiting for them made every stop of a spawned server or client cost that long.
 */
import { readdirSync, readFileSync } from 'node:fs';

const PROC = '/proc';

/** True while some member of the group `group` leads has not exited (zombies do not count). */
export function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
  } catch {
    return false;
  }
  const members = membersOf(group);
  // Without /proc (macOS, BSD) only the signal can tell: anything it reaches counts as alive.
  return members === undefined || members.some((state) => state !== 'Z' && state !== 'X');
}

/** The states (R, S, Z, ...) of the group's members as /proc lists them; undefined without /proc. */
function membersOf(group: number): string[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync(PROC);
  } catch {
    return undefined;
  }
  const states: string[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields !== undefined && fields.group === group) states.push(fields.state);
  }
  return states;
}

/** From /proc/PID/stat: "PID (COMM) STATE PPID PGRP ...", where COMM may hold spaces and ")". */
function statFields(pid: string): { state: string; group: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`${PROC}/${pid}/stat`, 'latin1');
  } catch {
    // It exited between the listing and the read.
    return undefined;
  }
  const [state, , group] = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return state === undefined || group === undefined ? undefined : { state, group: Number(group) };
}
