/**
 * Pauses one chosen read below the cache, after the database answered it and
 * before the cache can store the answer: the window of the
 * fill-after-invalidate race (consistency contract, item 2).
 */
export class ReadGate {
  #armed:
    | { match: (model: string | undefined, operation: string) => boolean; arrived: () => void; released: Promise<void> }
    | undefined;

  /**
   * The next database read for which `match` holds pauses there.
   * `arrived` resolves once it is paused; `release()` lets it continue.
   */
  arm(match: (model: string | undefined, operation: string) => boolean): { arrived: Promise<void>; release(): void } {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let arrived!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    this.#armed = { match, arrived, released };
    return { arrived: arrival, release };
  }

  /** Called below the cache once the database has answered. */
  async pass(model: string | undefined, operation: string): Promise<void> {
    const armed = this.#armed;
    if (armed === undefined || !armed.match(model, operation)) return;
    this.#armed = undefined;
    armed.arrived();
    await armed.released;
  }
}
