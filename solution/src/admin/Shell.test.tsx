import { act, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeApi } from "../test/fakeApi";
import { NARROW_QUERY } from "./common";
import { CONNECTION, showAdmin } from "./testing";

/** A window.matchMedia whose answer to NARROW_QUERY the test sets, telling its listeners as a browser does on a
 * resize; any other query (Fluent asks for reduced motion) does not match. */
function fakeMedia(initially: boolean) {
  type Listener = (ev: { matches: boolean; media: string }) => void;
  const listeners = new Set<Listener>();
  const list = { matches: initially, media: NARROW_QUERY,
    addEventListener: (_: string, f: Listener) => listeners.add(f),
    removeEventListener: (_: string, f: Listener) => listeners.delete(f) };
  const other = (media: string) => ({ matches: false, media, addEventListener: () => undefined, removeEventListener: () => undefined });
  vi.stubGlobal("matchMedia", (q: string) => (q === NARROW_QUERY ? list : other(q)));
  return {
    set(matches: boolean) {
      list.matches = matches;
      act(() => { listeners.forEach((f) => f({ matches, media: NARROW_QUERY })); });
    },
  };
}

afterEach(() => { vi.unstubAllGlobals(); });

const connected = () => new FakeApi().on("GET", "/connection", { status: 200, body: CONNECTION })
  .on("GET", "/users", { status: 200, body: [] });

describe("the admin shell's width", () => {
  it("lays the navigation out vertically beside the page on a wide window", async () => {
    fakeMedia(false);
    showAdmin(connected(), "#/users");
    await screen.findByRole("heading", { name: "User Management", level: 1 });
    expect(screen.getByRole("tablist")).toHaveAttribute("aria-orientation", "vertical");
  });

  it("puts the tabs in a horizontal list above the page when narrow, and back when the window widens", async () => {
    const media = fakeMedia(true);
    showAdmin(connected(), "#/users");
    await screen.findByRole("heading", { name: "User Management", level: 1 });
    expect(screen.getByRole("tablist")).toHaveAttribute("aria-orientation", "horizontal");
    media.set(false);
    expect(screen.getByRole("tablist")).toHaveAttribute("aria-orientation", "vertical");
    media.set(true);
    expect(screen.getByRole("tablist")).toHaveAttribute("aria-orientation", "horizontal");
  });
});
