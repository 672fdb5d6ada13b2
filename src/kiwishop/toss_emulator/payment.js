/*
 * Toss Payments v1 payment-window SDK, as served by the kiwi-shop Toss emulator (GET /v1/payment).
 *
 *   var tossPayments = TossPayments(clientKey);
 *   tossPayments.requestPayment("카드", {amount, orderId, orderName, successUrl, failUrl, customerName, ...})
 *
 * Invalid arguments reject the returned Promise with an Error carrying {code, message}, as the real SDK
 * does; otherwise the browser goes to the emulator's hosted payment window (on the origin this script was
 * loaded from), which later redirects to successUrl or failUrl.
 */
(function () {
  "use strict";

  var CLIENT_KEYS = __KIWI_CLIENT_KEYS__;
  var WINDOW_PATH = "/emulator/window";
  var METHODS = ["카드", "CARD"];
  var ORDER_ID = /^[A-Za-z0-9_.\-]{6,64}$/;
  var HTTP_URL = /^https?:\/\/[^\s\/?#]+[^\s]*$/i;
  var PASSED_ON = ["customerName", "customerEmail", "customerMobilePhone"];

  function scriptOrigin() {
    var script = document.currentScript;
    if (!script) {
      var scripts = document.getElementsByTagName("script");
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (/\/v1\/payment(\?|#|$)/.test(scripts[i].src)) {
          script = scripts[i];
          break;
        }
      }
    }
    if (script && script.src) {
      return new URL(script.src, window.location.href).origin;
    }
    return window.location.origin;
  }

  var ORIGIN = scriptOrigin();

  function tossError(code, message) {
    var error = new Error(message);
    error.name = "TossPaymentsError";
    error.code = code;
    return error;
  }

  function keyError(clientKey) {
    if (/^(test|live)_(g)?sk_/.test(String(clientKey))) {
      return tossError("INSECURE_KEY_USAGE", "시크릿 키는 브라우저에서 사용할 수 없습니다. 클라이언트 키를 사용해주세요.");
    }
    if (/^(test|live)_gck_/.test(String(clientKey))) {
      return tossError("NOT_SUPPORTED_WIDGET_KEY", "결제위젯 연동 키는 결제창에서 사용할 수 없습니다.");
    }
    return tossError("UNAUTHORIZED_KEY", "인증되지 않은 클라이언트 키 입니다.");
  }

  function wholeAmount(value) {
    var amount = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof amount !== "number" || !isFinite(amount) || amount < 1 || Math.floor(amount) !== amount) {
      return null;
    }
    return amount;
  }

  function validate(clientKey, method, params) {
    if (CLIENT_KEYS.indexOf(clientKey) < 0) {
      return keyError(clientKey);
    }
    if (METHODS.indexOf(method) < 0) {
      return tossError("NOT_SUPPORTED_METHOD", "지원하지 않는 결제 수단입니다: " + method);
    }
    if (!params || typeof params !== "object") {
      return tossError("INVALID_REQUEST", "결제 정보가 없습니다.");
    }
    if (wholeAmount(params.amount) === null) {
      return tossError("INVALID_AMOUNT_VALUE", "결제 금액이 올바르지 않습니다.");
    }
    if (typeof params.orderId !== "string" || !ORDER_ID.test(params.orderId)) {
      return tossError("INVALID_ORDER_ID", "주문번호는 6자 이상 64자 이하의 영문, 숫자, -, _, . 로 이루어져야 합니다.");
    }
    if (typeof params.orderName !== "string" || params.orderName.trim() === "" || params.orderName.length > 100) {
      return tossError("INVALID_ORDER_NAME", "주문명은 1자 이상 100자 이하여야 합니다.");
    }
    if (typeof params.successUrl !== "string" || !HTTP_URL.test(params.successUrl)) {
      return tossError("INCORRECT_SUCCESS_URL_FORMAT", "successUrl 은 http:// 또는 https:// 로 시작하는 절대 주소여야 합니다.");
    }
    if (typeof params.failUrl !== "string" || !HTTP_URL.test(params.failUrl)) {
      return tossError("INCORRECT_FAIL_URL_FORMAT", "failUrl 은 http:// 또는 https:// 로 시작하는 절대 주소여야 합니다.");
    }
    return null;
  }

  function windowUrl(clientKey, method, params) {
    var query = new URLSearchParams();
    query.set("clientKey", clientKey);
    query.set("method", method);
    query.set("amount", String(wholeAmount(params.amount)));
    query.set("orderId", params.orderId);
    query.set("orderName", params.orderName);
    query.set("successUrl", params.successUrl);
    query.set("failUrl", params.failUrl);
    PASSED_ON.forEach(function (name) {
      if (params[name] !== undefined && params[name] !== null) {
        query.set(name, String(params[name]));
      }
    });
    return ORIGIN + WINDOW_PATH + "?" + query.toString();
  }

  function TossPayments(clientKey) {
    if (!(this instanceof TossPayments)) {
      return new TossPayments(clientKey);
    }
    this.clientKey = clientKey;
  }

  TossPayments.prototype.requestPayment = function (method, params) {
    var clientKey = this.clientKey;
    return new Promise(function (resolve, reject) {
      var error = validate(clientKey, method, params);
      if (error) {
        reject(error);
        return;
      }
      window.location.href = windowUrl(clientKey, method, params);
    });
  };

  window.TossPayments = TossPayments;
})();
