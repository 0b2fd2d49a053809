/**
 * Every text of the sign-in pages, by key. A language is one file (en.ts, fr.ts...) exporting a
 * `Messages` object: a missing or misspelled key is a type error. `{name}` marks a value the page
 * fills in (the application, the user...); it is escaped there, so a text never holds markup.
 */
export interface Messages {
  /** The language's own name, as its speakers write it. */
  languageName: string;

  signInTitle: string;
  /** {app}: the application's name. */
  signInLead: string;
  username: string;
  password: string;
  signInButton: string;
  cancel: string;
  wrongPassword: string;
  accountDisabled: string;
  /** {wait}: `minutesOne` or `minutesMany`. */
  tooManyAttempts: string;
  minutesOne: string;
  /** {count} */
  minutesMany: string;
  busy: string;

  /** The second step of a sign-in (src/signin/): a code from an authenticator app, or a recovery code. */
  codeTitle: string;
  /** {app} */
  codeLead: string;
  codeLabel: string;
  verifyButton: string;
  wrongCode: string;
  /** Setting up an authenticator app during sign-in, when a second step is required. {app} */
  enrolTitle: string;
  enrolLead: string;
  /** The QR code's accessible name. */
  enrolQrLabel: string;
  enrolKeyLabel: string;
  enrolCodeLabel: string;
  confirmButton: string;
  recoveryTitle: string;
  recoveryLead: string;
  /** Passkeys (WebAuthn): the buttons, shown only where the browser can use them. */
  passkeySignIn: string;
  passkeyUse: string;
  passkeyCreate: string;
  passkeyFailed: string;
  /** When the application asks for a passkey (phishing-resistant sign-in). {app} */
  passkeyLead: string;
  /** Password reset by mail (src/signin/password-reset.ts). */
  forgotLink: string;
  forgotTitle: string;
  forgotLead: string;
  forgotLabel: string;
  forgotButton: string;
  /** The same answer whether or not the account exists. {minutes} */
  forgotSent: string;
  resetTitle: string;
  /** {user} */
  resetLead: string;
  newPassword: string;
  confirmPassword: string;
  resetButton: string;
  resetDone: string;
  resetInvalid: string;
  resetMismatch: string;
  resetTooShort: string;
  /** {brand} */
  mailSubject: string;
  /** {brand}, {user}, {link}, {minutes}: plain text. */
  mailBody: string;

  /** The account page (/account). */
  accountTitle: string;
  accountSignedOut: string;
  accountFactors: string;
  accountAuthenticator: string;
  accountPasskey: string;
  accountRemove: string;
  /** {count} */
  accountCodesLeft: string;
  accountNewCodes: string;
  accountNoFactors: string;
  accountSessions: string;
  accountThisBrowser: string;
  accountPassword: string;
  accountCurrentPassword: string;
  accountWrongPassword: string;
  accountPasswordChanged: string;
  accountFactorRemoved: string;
  accountAddAuthenticator: string;
  accountAddPasskey: string;
  accountAddLead: string;
  accountPasskeyLead: string;
  /** {minutes}: how recent a sign-in must be to add a factor without the password. */
  accountStale: string;
  accountExpired: string;
  accountHasAuthenticator: string;
  accountFactorAdded: string;
  accountBack: string;
  accountPasskeyName: string;
  accountRename: string;
  accountBadName: string;
  accountRenamed: string;
  accountSignOut: string;
  accountSessionEnded: string;
  /** Email verification. */
  verifyTitle: string;
  /** {email} */
  verifyLead: string;
  verifyEmailButton: string;
  verifyDone: string;
  verifyInvalid: string;
  /** On /account, for an address not verified yet. {email} */
  accountVerifyEmail: string;
  accountVerifySent: string;
  /** {brand} */
  verifyMailSubject: string;
  /** {brand}, {user}, {link}, {hours}: plain text. */
  verifyMailBody: string;

  organizationTitle: string;
  /** {app} */
  organizationLead: string;
  organizationsLegend: string;
  continueButton: string;

  consentTitle: string;
  consentHeading: string;
  /** {app} */
  consentLead: string;
  /** {user} */
  signedInAs: string;
  notYou: string;
  allow: string;
  deny: string;

  scopeOpenid: string;
  scopeProfile: string;
  scopeEmail: string;
  scopeAddress: string;
  scopePhone: string;
  scopeOfflineAccess: string;
  scopeOrganization: string;
  /** {organization} */
  scopeOrganizationNamed: string;
  /** {organization}, {roles} */
  scopeOrganizationWithRoles: string;
  scopeAllOrganizations: string;
  scopePrivileges: string;
  scopeHasura: string;
  /** {brand} */
  scopeAdmin: string;
  scopeAdminPrivileges: string;
  /** {api}, {scopes}: an API (resource server) by its name, and its description or else the scopes asked for it. */
  scopeApi: string;
  /** How a list is joined (", "). */
  listSeparator: string;

  /** {app} */
  appLogoAlt: string;
  appHomePage: string;
  privacyPolicy: string;
  termsOfService: string;
  /** {brand}, {host}: names the deployment on every page, so a copy is easier to tell. */
  servedBy: string;

  expiredTitle: string;
  expiredMessage: string;
  refusedTitle: string;
  refusedMessage: string;
  errorTitle: string;
  errorMessage: string;
  unavailableTitle: string;
  unavailableMessage: string;
  serverErrorTitle: string;
  serverErrorMessage: string;
  detailError: string;
  detailDescription: string;
  detailRequestId: string;

  signOutTitle: string;
  signOutHeading: string;
  /** {app} */
  signOutAsk: string;
  signOutQuestion: string;
  signOutYes: string;
  signOutNo: string;
  signedOutTitle: string;
  signedOutMessage: string;
  /** {app} */
  signedOutOf: string;
}
