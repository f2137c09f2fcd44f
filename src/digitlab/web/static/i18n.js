// The page's words in the reader's language: GET /api/texts (chosen from ?lang=, else the
// browser's Accept-Language, else the server's language) gives each English text's
// translation; elements marked data-i18n (text) or data-i18n-label (aria-label) are replaced.
"use strict";
let translations = {};

function t(text) { return translations[text] || text; }

const textsReady = fetch("/api/texts" + location.search)
  .then((response) => response.json())
  .then((body) => {
    translations = body.texts;
    document.documentElement.lang = body.lang;
    document.title = t(document.title);
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.textContent.trim());
    }
    for (const element of document.querySelectorAll("[data-i18n-label]")) {
      element.setAttribute("aria-label", t(element.getAttribute("aria-label")));
    }
    document.body.dataset.lang = body.lang;
  })
  .catch(() => { /* the English page stays */ });
