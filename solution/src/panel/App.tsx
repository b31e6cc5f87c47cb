import { Button, FluentProvider, MessageBar, MessageBarBody, Spinner, Text, makeStyles, tokens, webLightTheme } from "@fluentui/react-components";
import { type ReactNode, useEffect, useState } from "react";
import { InteractionNeeded } from "../auth/signin";
import { type Booted, BootProblem } from "./boot";

const useStyles = makeStyles({
  pad: { padding: tokens.spacingHorizontalM, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS,
         alignItems: "flex-start" },
});

type State =
  | { kind: "booting" }
  | { kind: "problem"; message: string }
  | { kind: "sign_in"; booted: Booted; error: string | null }
  | { kind: "ready"; booted: Booted };

/** Boots, signs in (silently, or with a click that opens the popup), then renders `children(booted)`. */
export function App({ start, children }: { start: () => Promise<Booted>; children: (b: Booted) => ReactNode }) {
  const s = useStyles();
  const [state, setState] = useState<State>({ kind: "booting" });

  useEffect(() => {
    const alive = { current: true };
    (async () => {
      const booted = await start();
      try {
        await booted.signIn.tokenSilently();
        if (alive.current) setState({ kind: "ready", booted });
      } catch (e) {
        if (!(e instanceof InteractionNeeded)) throw e;
        if (alive.current) setState({ kind: "sign_in", booted, error: null });
      }
    })().catch((e: unknown) => {
      if (alive.current) setState({ kind: "problem", message: e instanceof BootProblem ? e.message : `The page could not start: ${String(e)}` });
    });
    return () => { alive.current = false; };
  }, [start]);

  async function signInWithPopup(booted: Booted) {
    try {
      await booted.signIn.signInInteractively();
      setState({ kind: "ready", booted });
    } catch (e) {
      setState({ kind: "sign_in", booted, error: e instanceof Error ? e.message : String(e) });
    }
  }

  let content: ReactNode;
  switch (state.kind) {
    case "booting":
      content = <div className={s.pad}><Spinner label="Starting…" /></div>;
      break;
    case "problem":
      content = <div className={s.pad}><MessageBar intent="warning"><MessageBarBody>{state.message}</MessageBarBody></MessageBar></div>;
      break;
    case "sign_in":
      content = (
        <main className={s.pad} aria-label="Sign in">
          <Text as="p">Sign in to the ActiveCampaign sync service to see this record's marketing activity.</Text>
          <Button appearance="primary" onClick={() => void signInWithPopup(state.booted)}>Sign in</Button>
          <div role="alert">{state.error ? <MessageBar intent="error"><MessageBarBody>Sign-in failed: {state.error}</MessageBarBody></MessageBar> : null}</div>
        </main>
      );
      break;
    case "ready":
      content = children(state.booted);
  }
  return <FluentProvider theme={webLightTheme}>{content}</FluentProvider>;
}
