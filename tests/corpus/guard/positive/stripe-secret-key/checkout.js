const stripe = require("stripe")("{{cat:sk|_live_}}{{alnum:99}}");
module.exports = async (items) => stripe.checkout.sessions.create({ mode: "payment", line_items: items });
