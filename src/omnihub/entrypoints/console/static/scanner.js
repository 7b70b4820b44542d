/* omnihub console: read a barcode (EAN-13, UPC-A) or a QR code with the phone's camera
   into a form field. A "Scan" button (templates/_fields.html scan_button) names its field
   and the formats it reads; it is shown only where the browser can open a camera, so
   typing always works and stays the way without one.

   The camera's frames are read by the browser's own BarcodeDetector where it has one for
   every format asked (Android, macOS), else by ZXing (static/vendor/zxing-library-*.min.js,
   Apache-2.0, loaded from the hub only when needed). No inline code, nothing from
   elsewhere: the console's Content-Security-Policy allows scripts from the hub only.

   A UPC-A is an EAN-13 whose first digit is 0: read as EAN-13 it comes back with that 0,
   and is written into the field as the 12 digits printed under the bars. */
(function () {
  "use strict";

  var ZXING_SRC = "/console/static/zxing.min.js";
  var ZXING_NAMES = { ean_13: "EAN_13", upc_a: "UPC_A", ean_8: "EAN_8", upc_e: "UPC_E", code_128: "CODE_128",
                      qr_code: "QR_CODE" };
  var EVERY_MS = 120;

  function cameraAvailable() {
    return !!(window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
  }

  var zxingLoading = null;
  function loadZxing() {
    if (window.ZXing) { return Promise.resolve(window.ZXing); }
    if (!zxingLoading) {
      zxingLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = ZXING_SRC;
        script.onload = function () { resolve(window.ZXing); };
        script.onerror = function () { zxingLoading = null; reject(new Error("the barcode reader did not load")); };
        document.head.appendChild(script);
      });
    }
    return zxingLoading;
  }

  function zxingReader(formats) {
    return loadZxing().then(function (ZXing) {
      var hints = new Map();
      hints.set(ZXing.DecodeHintType.POSSIBLE_FORMATS, formats.map(function (f) {
        return ZXing.BarcodeFormat[ZXING_NAMES[f]];
      }));
      hints.set(ZXing.DecodeHintType.TRY_HARDER, true);
      var reader = new ZXing.MultiFormatReader();
      return function (canvas) {
        try {
          var source = new ZXing.HTMLCanvasElementLuminanceSource(canvas);
          var result = reader.decode(new ZXing.BinaryBitmap(new ZXing.HybridBinarizer(source)), hints);
          return Promise.resolve({ text: result.getText(),
                                   format: String(ZXing.BarcodeFormat[result.getBarcodeFormat()]).toLowerCase() });
        } catch (notFound) {  // nothing readable in this frame
          return Promise.resolve(null);
        }
      };
    });
  }

  /* A function (canvas) -> Promise of {text, format} or null, for these formats. */
  function reader(formats) {
    if (!("BarcodeDetector" in window)) { return zxingReader(formats); }
    return window.BarcodeDetector.getSupportedFormats().then(function (native) {
      if (!formats.every(function (f) { return native.indexOf(f) >= 0; })) { return zxingReader(formats); }
      var detector = new window.BarcodeDetector({ formats: formats });
      return function (canvas) {
        return detector.detect(canvas).then(function (found) {
          return found.length ? { text: found[0].rawValue, format: found[0].format } : null;
        });
      };
    }, function () { return zxingReader(formats); });
  }

  function asWritten(found, formats) {
    var text = String(found.text || "").trim();
    if (found.format === "ean_13" && formats.indexOf("upc_a") >= 0 && /^0\d{12}$/.test(text)) {
      return text.slice(1);
    }
    return text;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }
    return node;
  }

  function scan(button) {
    var field = document.getElementById(button.getAttribute("data-scan-for"));
    var said = document.getElementById(button.getAttribute("data-scan-for") + "-scan-status");
    var formats = (button.getAttribute("data-scan-formats") || "ean_13,upc_a").split(",");
    if (!field) { return; }
    var overlay = el("div", "scanner");
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "Camera: " + (button.getAttribute("aria-label") || "scan"));
    var video = el("video", "scanner-video");
    video.muted = true;
    video.setAttribute("playsinline", "");
    video.setAttribute("aria-hidden", "true");
    var status = el("p", "scanner-status", "Starting the camera…");
    status.setAttribute("role", "status");
    var cancel = el("button", "secondary scanner-cancel", "Cancel");
    cancel.type = "button";
    overlay.appendChild(video);
    overlay.appendChild(el("div", "scanner-aim"));
    overlay.appendChild(status);
    overlay.appendChild(cancel);
    document.body.appendChild(overlay);
    cancel.focus();

    var stream = null;
    var timer = null;
    var closed = false;
    var canvas = document.createElement("canvas");

    function close(message) {
      if (closed) { return; }
      closed = true;
      if (timer) { clearTimeout(timer); }
      if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
      document.removeEventListener("keydown", onKey);
      overlay.remove();
      if (said && message) { said.textContent = message; }
      field.focus();
    }
    function onKey(event) { if (event.key === "Escape") { close("Scan cancelled: type the code, or scan again."); } }
    document.addEventListener("keydown", onKey);
    cancel.addEventListener("click", function () { close("Scan cancelled: type the code, or scan again."); });

    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (media) {
        stream = media;
        if (closed) { close(); return null; }
        video.srcObject = media;
        return Promise.all([video.play(), reader(formats)]);
      })
      .then(function (ready) {
        if (!ready || closed) { return; }
        var decode = ready[1];
        status.textContent = "Point the camera at the " + (formats.indexOf("qr_code") >= 0 ? "QR code" : "barcode") + ".";
        var tick = function () {
          if (closed) { return; }
          if (video.readyState < 2 || !video.videoWidth) { timer = setTimeout(tick, EVERY_MS); return; }
          var scale = Math.min(1, 1280 / video.videoWidth);
          canvas.width = Math.round(video.videoWidth * scale);
          canvas.height = Math.round(video.videoHeight * scale);
          canvas.getContext("2d", { willReadFrequently: true }).drawImage(video, 0, 0, canvas.width, canvas.height);
          decode(canvas).then(function (found) {
            if (closed) { return; }
            var text = found ? asWritten(found, formats) : "";
            if (!text) { timer = setTimeout(tick, EVERY_MS); return; }
            field.value = text;
            field.dispatchEvent(new Event("input", { bubbles: true }));
            field.dispatchEvent(new Event("change", { bubbles: true }));
            if (navigator.vibrate) { navigator.vibrate(80); }
            close("Scanned " + text + ".");
          }, function () { timer = setTimeout(tick, EVERY_MS); });
        };
        tick();
      })
      .catch(function (error) {
        var name = error && error.name;
        close(name === "NotAllowedError" ? "The camera was refused: allow it in the browser's settings, or type the code."
              : name === "NotFoundError" ? "No camera was found: type the code."
              : "The camera could not be used (" + (error && error.message || name || "unknown") + "): type the code.");
      });
  }

  function setUp() {
    if (!cameraAvailable()) { return; }
    var buttons = document.querySelectorAll("button[data-scan-for]");
    Array.prototype.forEach.call(buttons, function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { scan(button); });
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
}());
