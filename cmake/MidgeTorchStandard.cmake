# Raises CMAKE_CXX_STANDARD to the C++ standard the found LibTorch states on
# its imported `torch` target, when that is newer than the project's own
# (C++17). Include after find_package(Torch) and before any target.
#
# Why: TorchConfig.cmake sets CXX_STANDARD on the imported target (14 in
# Debian's 1.13, 17 in 2.11, 20 in 2.14), but that property is not passed
# on to the targets linking it, so against LibTorch 2.14 every translation
# unit including <torch/torch.h> stops with "#error C++20 or later
# compatible compiler is required to use PyTorch". (A LibTorch that states
# it as the compile feature cxx_std_20 instead needs nothing from here:
# CMake passes compile features on.)
get_target_property(MIDGE_TORCH_CXX_STANDARD torch CXX_STANDARD)
if(MIDGE_TORCH_CXX_STANDARD AND MIDGE_TORCH_CXX_STANDARD GREATER CMAKE_CXX_STANDARD)
  set(CMAKE_CXX_STANDARD ${MIDGE_TORCH_CXX_STANDARD})
  message(STATUS "C++${CMAKE_CXX_STANDARD}: what LibTorch ${Torch_VERSION} requires")
endif()
