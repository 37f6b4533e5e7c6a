// Preloaded into supergateway by scripts/bench.sh (node -r): supergateway
// has no option for the address it listens on and listens on every
// interface; this makes a listen on a bare port bind to loopback instead, so
// that the benchmark never exposes it to the network.
'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || typeof args[1] === 'function')) {
    args.splice(1, 0, '127.0.0.1');
  }
  return listen.apply(this, args);
};
