// Placeholder worker: the real one lives in the NoClaw repository. It proves the build path.
process.stdout.write("noclaw worker ready\n");
setInterval(() => {}, 1 << 30);
