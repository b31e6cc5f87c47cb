/**
 * Tokens for the sync API with MSAL: silently first (a cached account, else SSO with the Dynamics
 * user's login hint), and a popup when that needs the person, never a redirect (the page lives in
 * a form's or a side pane's iframe). The popup is opened from a click (`signInInteractively`), as
 * browsers block popups nobody asked for.
 */
import {
  type AccountInfo, type Configuration, type IPublicClientApplication, InteractionRequiredAuthError,
  createStandardPublicClientApplication,
} from "@azure/msal-browser";

export interface SignInOptions {
  clientId: string;
  authority: string;
  scope: string;
  /** Absolute URL of the redirect bridge page (`/WebResources/acds_/auth/redirect.html`). */
  redirectUri: string;
  loginHint: string;
}

/** Silent sign-in was not enough: the person has to click "Sign in". */
export class InteractionNeeded extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "InteractionNeeded";
  }
}

const ENTRA_HOST = "login.microsoftonline.com";

export function msalConfiguration(o: SignInOptions): Configuration {
  const host = new URL(o.authority).host;
  return {
    auth: {
      clientId: o.clientId,
      authority: o.authority,
      redirectUri: o.redirectUri,
      // Any authority but Entra's own (sovereign clouds, the local stub) must be named as trusted.
      knownAuthorities: host === ENTRA_HOST ? [] : [host],
    },
    cache: { cacheLocation: "sessionStorage" },
  };
}

export class SignIn {
  private app: Promise<IPublicClientApplication> | null = null;

  constructor(private readonly o: SignInOptions) {}

  private client(): Promise<IPublicClientApplication> {
    this.app ??= createStandardPublicClientApplication(msalConfiguration(this.o));
    return this.app;
  }

  private account(app: IPublicClientApplication): AccountInfo | null {
    const hint = this.o.loginHint.toLowerCase();
    return app.getAllAccounts().find((a) => a.username.toLowerCase() === hint) ?? null;
  }

  /** A token without any window: the cache, a refresh, or SSO with the login hint. */
  async tokenSilently(): Promise<string> {
    const app = await this.client();
    const scopes = [this.o.scope];
    const account = this.account(app);
    try {
      const result = account
        ? await app.acquireTokenSilent({ scopes, account })
        : await app.ssoSilent({ scopes, loginHint: this.o.loginHint });
      return result.accessToken;
    } catch (e) {
      if (e instanceof InteractionRequiredAuthError) throw new InteractionNeeded(e.errorCode);
      throw new InteractionNeeded(e instanceof Error ? e.message : String(e));
    }
  }

  /** The popup, for the same user; call it from a click. */
  async signInInteractively(): Promise<string> {
    const app = await this.client();
    const result = await app.acquireTokenPopup({ scopes: [this.o.scope], loginHint: this.o.loginHint });
    return result.accessToken;
  }
}
