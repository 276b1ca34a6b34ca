export const SLACK_BOT_TOKEN = '{{cat:xo|xb-}}{{digits:12}}-{{digits:13}}-{{alnum:24}}';
export async function post(channel, text) {
  return fetch('https://slack.com/api/chat.postMessage', {
    method: 'POST',
    headers: { Authorization: `Bearer ${SLACK_BOT_TOKEN}` },
    body: JSON.stringify({ channel, text }),
  });
}
