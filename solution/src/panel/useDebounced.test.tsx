import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useDebounced } from "./useDebounced";

describe("useDebounced", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("settles on the last value once it stops changing, skipping the ones in between", () => {
    const seen: string[] = [];
    const { result, rerender } = renderHook(({ v }) => {
      const d = useDebounced(v, 300);
      seen.push(d);
      return d;
    }, { initialProps: { v: "" } });
    for (const v of ["w", "we", "wel", "welc"]) {
      rerender({ v });
      act(() => { vi.advanceTimersByTime(100); });
    }
    expect(result.current).toBe("");
    act(() => { vi.advanceTimersByTime(300); });
    expect(result.current).toBe("welc");
    expect(new Set(seen)).toEqual(new Set(["", "welc"]));
  });
});
