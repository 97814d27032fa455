// The bridge's memory of offers, kept in BRIDGE_STATE_DIR/offers.json so that an offer handed to
// OpenClaw is never handed over again — not after a reconnect, the hub's replay, or a restart — and
// of the notices for the agent that OpenClaw has not taken yet, so that none is lost either.
// Every change rewrites the file atomically: a temp file, fsync, rename, fsync of the folder.
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';

export interface OfferTask {
  id: string;
  title: string;
  description: string;
  category: string | null;
  deadline: string | null;
}

/** A pending_offer frame as SPEC §6 gives it. */
export interface PendingOffer {
  offerId: string;
  message: string;
  task: OfferTask;
  expiresAt: string | null;
}

export interface OfferRecord {
  offer: PendingOffer;
  /** waiting: not yet taken by OpenClaw; handed_over: OpenClaw admitted it; given_up: OpenClaw refused it for good. */
  status: 'waiting' | 'handed_over' | 'given_up';
  receivedAt: string;
  handedOverAt: string | null;
  runId: string | null;
  attempts: number;
  error?: string;
}

/** A notice for the agent not yet taken by OpenClaw: a rejection (agent hook) or an offer gone (wake hook). */
export interface NoticeRecord {
  /** Unique; also the idempotency key of an agent-hook notice. */
  key: string;
  hook: 'agent' | 'wake';
  text: string;
  createdAt: string;
  attempts: number;
  /** What the log line says it was about (ids, the event). */
  about: Record<string, string | null>;
}

interface FileShape {
  version: 1;
  /** Offers OpenClaw ever admitted from this folder (records are dropped, the count stays). */
  handedOverTotal: number;
  offers: Record<string, OfferRecord>;
  /** Notices waiting for OpenClaw (absent in files written before they were kept). */
  notices?: Record<string, NoticeRecord>;
}

// A record outlives its offer's expiry a little, so a hub whose clock runs behind ours cannot replay an
// offer we have already forgotten.
const EXPIRY_GRACE_MS = 10 * 60_000;

export class OfferStore {
  readonly file: string;
  private offers = new Map<string, OfferRecord>();
  private notices = new Map<string, NoticeRecord>();
  handedOverTotal = 0;
  private lockFile: string;

  private constructor(readonly dir: string) {
    this.file = path.join(dir, 'offers.json');
    this.lockFile = path.join(dir, 'bridge.lock');
  }

  /** Opens (creating the folder) and takes the folder's lock; a second bridge on the same folder is refused. */
  static open(dir: string, warn: (msg: string, fields?: Record<string, unknown>) => void = () => {}): OfferStore {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new OfferStore(dir);
    store.lock();
    try {
      store.load(warn);
    } catch (err) {
      store.unlock();
      throw err;
    }
    return store;
  }

  private static held = new Set<string>();

  private lock() {
    const key = path.resolve(this.dir);
    if (OfferStore.held.has(key)) throw new Error(`another bridge in this process is using ${this.dir}; two bridges on one state folder would hand offers over twice`);
    for (let i = 0; i < 2; i++) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx', mode: 0o600 });
        OfferStore.held.add(key);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = Number(fs.readFileSync(this.lockFile, 'utf8').trim());
        if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && aliveBridge(pid)) {
          throw new Error(`another bridge (pid ${pid}) is using ${this.dir}; two bridges on one state folder would hand offers over twice`);
        }
        fs.rmSync(this.lockFile, { force: true }); // left by a bridge that died
      }
    }
    throw new Error(`could not lock ${this.dir}`);
  }

  private unlock() {
    OfferStore.held.delete(path.resolve(this.dir));
    try {
      if (fs.readFileSync(this.lockFile, 'utf8').trim() === String(process.pid)) fs.rmSync(this.lockFile, { force: true });
    } catch {
      // already gone
    }
  }

  private load(warn: (msg: string, fields?: Record<string, unknown>) => void) {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let data: FileShape;
    try {
      data = JSON.parse(text);
      if (data?.version !== 1 || typeof data.offers !== 'object' || data.offers === null) throw new Error('unknown layout');
    } catch (err) {
      const aside = `${this.file}.unreadable-${Date.now()}`;
      fs.renameSync(this.file, aside);
      warn('state file unreadable; moved aside, starting with no record of earlier hand-overs', { file: aside, reason: (err as Error).message });
      return;
    }
    this.handedOverTotal = Number.isInteger(data.handedOverTotal) ? data.handedOverTotal : 0;
    for (const [id, rec] of Object.entries(data.offers)) {
      if (rec && typeof rec === 'object' && rec.offer?.offerId === id) this.offers.set(id, rec);
    }
    for (const [key, n] of Object.entries(data.notices ?? {})) {
      if (n && typeof n === 'object' && n.key === key && typeof n.text === 'string' && (n.hook === 'agent' || n.hook === 'wake')) this.notices.set(key, n);
    }
  }

  /** Keeps a notice until OpenClaw takes it (or refuses it for good). */
  addNotice(n: Omit<NoticeRecord, 'createdAt' | 'attempts'>, now = new Date()): NoticeRecord {
    const rec: NoticeRecord = { ...n, createdAt: now.toISOString(), attempts: 0 };
    this.notices.set(rec.key, rec);
    this.save();
    return rec;
  }

  noticeAttempted(key: string) {
    const n = this.notices.get(key);
    if (!n) return;
    n.attempts++;
    this.save();
  }

  dropNotice(key: string) {
    if (this.notices.delete(key)) this.save();
  }

  notice(key: string): NoticeRecord | undefined {
    return this.notices.get(key);
  }

  allNotices(): NoticeRecord[] {
    return [...this.notices.values()];
  }

  get(offerId: string): OfferRecord | undefined {
    return this.offers.get(offerId);
  }

  all(): OfferRecord[] {
    return [...this.offers.values()];
  }

  byTask(taskId: string): OfferRecord[] {
    return this.all().filter((r) => r.offer.task?.id === taskId);
  }

  count(status: OfferRecord['status']): number {
    let n = 0;
    for (const r of this.offers.values()) if (r.status === status) n++;
    return n;
  }

  /** Records a newly seen offer as waiting; returns false (and changes nothing) when it is already known. */
  add(offer: PendingOffer, now = new Date()): boolean {
    if (this.offers.has(offer.offerId)) return false;
    this.offers.set(offer.offerId, { offer, status: 'waiting', receivedAt: now.toISOString(), handedOverAt: null, runId: null, attempts: 0 });
    this.save();
    return true;
  }

  attempted(offerId: string) {
    const rec = this.offers.get(offerId);
    if (!rec) return;
    rec.attempts++;
    this.save();
  }

  /** OpenClaw took the offer. Counted even when the record is gone (dropped while the request was in flight). */
  handedOver(offerId: string, runId: string | null, now = new Date()) {
    this.handedOverTotal++;
    const rec = this.offers.get(offerId);
    if (rec) {
      rec.status = 'handed_over';
      rec.handedOverAt = now.toISOString();
      rec.runId = runId;
    }
    this.save();
  }

  giveUp(offerId: string, error: string) {
    const rec = this.offers.get(offerId);
    if (!rec) return;
    rec.status = 'given_up';
    rec.error = error;
    this.save();
  }

  /** Forgets an offer that is no longer pending. */
  drop(offerId: string): OfferRecord | undefined {
    const rec = this.offers.get(offerId);
    if (!rec) return undefined;
    this.offers.delete(offerId);
    this.save();
    return rec;
  }

  /** Drops offers past their expiry (plus a grace period); returns them. */
  prune(now = Date.now()): OfferRecord[] {
    const gone: OfferRecord[] = [];
    for (const rec of this.offers.values()) {
      const exp = rec.offer.expiresAt ? Date.parse(rec.offer.expiresAt) : NaN;
      if (Number.isFinite(exp) && exp + EXPIRY_GRACE_MS < now) gone.push(rec);
    }
    if (gone.length === 0) return gone;
    for (const rec of gone) this.offers.delete(rec.offer.offerId);
    this.save();
    return gone;
  }

  private save() {
    const data: FileShape = { version: 1, handedOverTotal: this.handedOverTotal, offers: Object.fromEntries(this.offers), notices: Object.fromEntries(this.notices) };
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, JSON.stringify(data, null, 1) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    try {
      const dfd = fs.openSync(this.dir, 'r');
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
    } catch {
      // some platforms cannot fsync a folder; the rename is still atomic
    }
  }

  close() {
    this.unlock();
  }
}

/** Is `pid` a running bridge? After a reboot the pid in a left-over lock may belong to anything else. */
function aliveBridge(pid: number): boolean {
  if (fs.existsSync('/proc/self/cmdline')) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bridge');
    } catch {
      return false; // gone, or another user's process we may not even see
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
