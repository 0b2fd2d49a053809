/**
 * The pages' one script (served as /assets/passkey.js; the pages' CSP allows only their own
 * scripts): a passkey button runs the WebAuthn ceremony its form describes (data-options, from the
 * server) and posts the browser's answer. Without the browser's JSON helpers the buttons stay hidden.
 */
export const PASSKEY_SCRIPT = `'use strict';
(() => {
  const PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON) return;
  for (const button of document.querySelectorAll('button[data-webauthn]')) {
    button.hidden = false;
    button.addEventListener('click', async (event) => {
      event.preventDefault();
      const form = button.form;
      const failed = form.querySelector('.passkey-error');
      try {
        const options = JSON.parse(button.dataset.options);
        const credential = button.dataset.webauthn === 'create'
          ? await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(options) })
          : await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(options) });
        form.elements.response.value = JSON.stringify(credential.toJSON());
        form.submit();
      } catch (err) {
        if (failed) failed.hidden = false;
      }
    });
  }
})();
`;
