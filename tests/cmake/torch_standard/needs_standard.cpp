// Builds only under at least C++EXPECT, as <torch/torch.h> of LibTorch 2.14
// builds only under C++20.
#if EXPECT >= 20 && __cplusplus < 202002L
#error "C++20 or later compatible compiler is required (the stand-in of LibTorch 2.14's check)"
#endif
#if __cplusplus < 201703L
#error "C++17 or later is required"
#endif
int main() { return 0; }
