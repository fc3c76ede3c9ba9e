// The floor of the local stack: the smallest possible Worker under the same wrangler dev /
// workerd as Edge ID. Whatever it cannot exceed, no Worker can on this machine.
export default {
  async fetch() {
    return new Response('ok');
  },
};
