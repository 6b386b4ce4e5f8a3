// Annex uploads with a progress bar: a form marked data-upload is sent by XMLHttpRequest, whose
// upload progress events move the form's <progress>; the page the server answers (the next
// step, or the page with its error) then replaces this one. Without JavaScript the same form
// posts as usual. Loaded as a file: the Content-Security-Policy allows no inline script.
"use strict";

(function () {
  function show(form, text) {
    var status = form.querySelector("[data-upload-status]");
    if (status) {
      status.textContent = text;
    }
  }

  function replacePage(xhr) {
    var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
    document.replaceChild(document.adoptNode(doc.documentElement), document.documentElement);
    if (xhr.responseURL) {
      history.replaceState(null, "", xhr.responseURL);
    }
    bind();
  }

  function send(form, event) {
    var input = form.querySelector("input[type=file]");
    var file = input && input.files && input.files[0];
    if (!file) {
      return; // the server says what is missing
    }
    event.preventDefault();
    var limit = Number(form.getAttribute("data-upload-max-bytes") || "0");
    if (limit && file.size > limit) {
      show(form, form.getAttribute("data-upload-too-large"));
      return;
    }
    var box = form.querySelector("[data-upload-progress]");
    var bar = box && box.querySelector("progress");
    if (box) {
      box.hidden = false;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable && bar) {
        var percent = Math.floor((e.loaded * 100) / e.total);
        bar.value = percent;
        bar.textContent = percent + "%";
        show(form, percent + "%");
      }
    });
    xhr.addEventListener("load", function () {
      replacePage(xhr);
    });
    xhr.addEventListener("error", function () {
      if (button) {
        button.disabled = false;
      }
      show(form, form.getAttribute("data-upload-failed"));
    });
    xhr.send(new FormData(form));
  }

  function bind() {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i += 1) {
      forms[i].addEventListener("submit", send.bind(null, forms[i]));
    }
  }

  bind();
})();
