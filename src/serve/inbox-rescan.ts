import type { Logger } from '../core/log.ts';
import { scanInbox } from '../dicom/scp/inbox-scan.ts';
import type { StandingGoal } from './standing-goal.ts';

/**
 * At start-up, hand every instance left in the SCP inbox to the standing goal as if it had just
 * arrived (its sender is the file's Source AE, PS3.10 7.1 (0002,0016)). Each study then waits its
 * quiet time again and is forwarded (only what the PACS had not acknowledged) and run (unless its
 * run had already started), see standing-goal.ts.
 */
export async function rescanInbox(dir: string, standing: Pick<StandingGoal, 'received'>, log: Logger): Promise<number> {
  const scan = await scanInbox(dir);
  for (const e of scan.entries) standing.received(e.instance, { callingAet: e.callingAet });
  for (const u of scan.unreadable) log.warn('inbox file not readable as DICOM; left in place', { path: u.path, error: u.reason });
  const studies = new Set(scan.entries.map((e) => e.instance.studyInstanceUid)).size;
  if (scan.entries.length > 0 || scan.removedPartial > 0) {
    log.info('inbox rescanned: instances left by an earlier start are handled again', { instances: scan.entries.length, studies, removedPartial: scan.removedPartial });
  }
  return scan.entries.length;
}
