/**
 * State that clears itself a while after it was set: a transient note, an Undo offer. Each new
 * value starts the wait again; null is "nothing to show".
 */
import { useEffect, useState, type Dispatch, type SetStateAction } from 'react';

export function useExpiringState<T>(ms: number): [T | null, Dispatch<SetStateAction<T | null>>] {
  const [value, setValue] = useState<T | null>(null);
  useEffect(() => {
    if (value === null) return;
    const id = setTimeout(() => setValue(null), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return [value, setValue];
}
