// shaders/nn/conv_row.glsl — one input row segment of a conv, for conv2d_forward.comp and
// conv2d_backward_weight_px.comp. The including shader declares, before the #include: `samplerBuffer x_t`, the
// push constants H and W, and the constants RW (values per segment), X4 (x as RGBA32F texels), and for X4
// XO (values of the first texel left of the segment) and NT (texels per segment).
// Reference: tests/reference/conv2d.cpp (ref::conv2d_forward, ref::conv2d_backward) through its users; tests:
//   tests/test_nn_layers.cpp (conv* rows, tests/nn_runners_conv.cpp run_conv)
#ifndef DIFFUSCOPE_NN_CONV_ROW_GLSL
#define DIFFUSCOPE_NN_CONV_ROW_GLSL

// The RW input values x[.., iy, ix0 …] of one row segment (0 outside the image, or when !live) from the channel
// plane at xc. With X4, ix0 + XO is a multiple of 4: every texel is wholly inside the row or wholly outside.
void x_row(uint xc, int iy, int ix0, bool live, out float xr[RW]) {
    const bool row_in = live && uint(iy) < H;
    const uint xrow = xc + uint(iy) * W;
    if (X4) {
        vec4 xt[NT];
        [[unroll]] for (uint q = 0; q < NT; ++q) {
            const int ix = ix0 - int(XO) + 4 * int(q);  // the texel's first value, a multiple of 4
            xt[q] = vec4(0.0);
            if (row_in && uint(ix) < W) xt[q] = texelFetch(x_t, int((xrow + uint(ix)) / 4));
        }
        [[unroll]] for (uint r = 0; r < RW; ++r) xr[r] = xt[(XO + r) / 4][(XO + r) % 4];
        return;
    }
    [[unroll]] for (uint r = 0; r < RW; ++r) {
        const int ix = ix0 + int(r);
        xr[r] = 0.0;
        if (row_in && uint(ix) < W) xr[r] = texelFetch(x_t, int(xrow + uint(ix))).x;
    }
}

#endif
