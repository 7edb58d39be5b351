// The old content of a file opened for writing, when it cannot be read at open time (not on
// this pod and no holder reachable: a laptop offline). The open still succeeds, because a
// write that replaces the file whole (O_TRUNC, which FUSE 2 sends as a truncate to 0) never
// needs the old bytes; a read of a range that was not rewritten tries again then and fails
// with the same EIO if the content is still out of reach.
import type { BaseContent } from "./staged-file.js";

export class DeferredBase implements BaseContent {
  private reader: Promise<BaseContent> | undefined;

  constructor(
    readonly size: number,
    private readonly open: () => Promise<BaseContent>,
  ) {}

  async read(offset: number, length: number): Promise<Buffer> {
    if (!this.reader) {
      this.reader = this.open();
      this.reader.catch(() => (this.reader = undefined)); // the next read may find a holder
    }
    return (await this.reader).read(offset, length);
  }

  close(): void {
    void this.reader?.then(
      (reader) => reader.close(),
      () => {},
    );
  }
}
