export async function runIngestBench(_o: { slices: number }): Promise<string> { return "todo"; }
