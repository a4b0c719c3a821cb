import { readCsv, type CsvTable } from '../util/csv.js';
import { HccError } from '../util/errors.js';

/**
 * A cohort table as the study's analyses read it: cohort.csv (plus any joined columns such as PMN scores),
 * addressed by column name, with row subsets for splits and risk groups. Columns are typed on access, so an
 * analysis states what it expects and a bad cell is reported with its column and case id.
 */
export class CohortFrame {
  readonly ids: string[];
  private readonly index: Map<string, number>;

  private constructor(
    readonly source: string,
    private readonly data: Map<string, Array<string | null>>,
  ) {
    const ids = data.get('id');
    if (!ids) throw new HccError(`${source}: no 'id' column`);
    this.ids = ids.map((v, i) => {
      if (v === null) throw new HccError(`${source}: data row ${i + 1} has no id`);
      return v;
    });
    this.index = new Map(this.ids.map((id, i) => [id, i]));
    if (this.index.size !== this.ids.length) throw new HccError(`${source}: case ids are not unique`);
  }

  static fromTable(table: CsvTable): CohortFrame {
    const data = new Map(table.columns.map((c, j) => [c, table.rows.map((r) => r[j]!)]));
    return new CohortFrame(table.source, data);
  }

  /** From plain objects (e.g. one patient's validated values); null and undefined become NA. */
  static fromRecords(records: Array<Record<string, unknown>>, source: string): CohortFrame {
    const columns = [...new Set(records.flatMap((r) => Object.keys(r)))];
    const data = new Map(columns.map((c) => [c, records.map((r) => (r[c] === null || r[c] === undefined ? null : String(r[c])))]));
    return new CohortFrame(source, data);
  }

  static read(path: string): CohortFrame {
    return CohortFrame.fromTable(readCsv(path));
  }

  get length(): number {
    return this.ids.length;
  }

  get columns(): string[] {
    return [...this.data.keys()];
  }

  has(column: string): boolean {
    return this.data.has(column);
  }

  raw(column: string): Array<string | null> {
    const v = this.data.get(column);
    if (!v) throw new HccError(`${this.source}: no column '${column}' (columns: ${this.columns.join(', ')})`);
    return v;
  }

  /** Numeric column; missing cells are NaN. */
  num(column: string): Float64Array {
    return Float64Array.from(this.raw(column), (v, i) => {
      if (v === null) return NaN;
      const x = Number(v);
      if (Number.isNaN(x)) throw new HccError(`${this.source}: column '${column}', case ${this.ids[i]}: '${v}' is not a number`);
      return x;
    });
  }

  str(column: string): Array<string | null> {
    return this.raw(column);
  }

  /** Adds or replaces a column from values keyed by case id; ids absent from `byId` get NA. */
  withColumn(column: string, byId: Map<string, number | string | null>): CohortFrame {
    const data = new Map(this.data);
    data.set(column, this.ids.map((id) => {
      const v = byId.get(id);
      return v === undefined || v === null || (typeof v === 'number' && !Number.isFinite(v)) ? null : String(v);
    }));
    return new CohortFrame(this.source, data);
  }

  /** Rows whose ids are in `ids`, in this frame's order. */
  subset(ids: Iterable<string>): CohortFrame {
    const keep = new Set(ids);
    const rows = this.ids.map((id, i) => (keep.has(id) ? i : -1)).filter((i) => i >= 0);
    const data = new Map([...this.data].map(([c, v]) => [c, rows.map((i) => v[i]!)]));
    return new CohortFrame(this.source, data);
  }

  /** Rows where `predicate(i)` holds. */
  filter(predicate: (i: number) => boolean): CohortFrame {
    return this.subset(this.ids.filter((_, i) => predicate(i)));
  }

  rowOf(id: string): number | undefined {
    return this.index.get(id);
  }
}
