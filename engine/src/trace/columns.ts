/**
 * Growable typed-array columns and a string interner: the importer keeps the few fields it needs of
 * each event here instead of the parsed event objects, so memory grows by tens of bytes per event
 * however large the event's JSON was.
 */

export type TypedArray = Float64Array | Int32Array | Uint8Array | Int16Array;
type TypedCtor<T extends TypedArray> = { new (n: number): T };

/** A typed array that grows when full; `data` may be longer than `length`. */
export class Column<T extends TypedArray> {
  data: T;
  length = 0;
  constructor(
    private readonly ctor: TypedCtor<T>,
    initial = 8192,
  ) {
    this.data = new ctor(initial);
  }

  push(v: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = v;
  }

  /** Appends all of `src`, each value through `map` when given (ids of another table turned into this one's). */
  append(src: ArrayLike<number>, map?: (v: number) => number): void {
    const n = src.length;
    if (this.length + n > this.data.length) this.grow(this.length + n);
    const data = this.data;
    let k = this.length;
    if (map) for (let i = 0; i < n; i++) data[k++] = map(src[i]);
    else for (let i = 0; i < n; i++) data[k++] = src[i];
    this.length = k;
  }

  private grow(atLeast = 0): void {
    // Doubling while small (fewer copies), by half once big (less slack in the largest columns).
    const n = this.data.length;
    const next = new this.ctor(Math.max(atLeast, n < 1 << 20 ? n * 2 : Math.ceil(n * 1.5)));
    next.set(this.data as never);
    this.data = next;
  }

  /** The filled part (a view, not a copy). */
  view(): T {
    return this.data.subarray(0, this.length) as T;
  }
}

export const f64 = (initial?: number) => new Column(Float64Array, initial);
export const i32 = (initial?: number) => new Column(Int32Array, initial);
export const u8 = (initial?: number) => new Column(Uint8Array, initial);
export const i16 = (initial?: number) => new Column(Int16Array, initial);

/** Strings to dense ids, each distinct string stored once. */
export class Interner {
  readonly values: string[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  get size(): number {
    return this.values.length;
  }
}
