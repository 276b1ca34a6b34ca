!function(){"use strict";var e="{{cat:gh|p_}}{{alnum:36}}";function t(t){return fetch("https://api.github.com/repos/acme/site/dispatches",{method:"POST",headers:{Authorization:"token "+e,Accept:"application/vnd.github+json"},body:JSON.stringify({event_type:t})})}window.rebuild=t}();
//# sourceMappingURL=deploy.4f3a2c1b.js.map
