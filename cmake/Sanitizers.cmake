# SPDX-License-Identifier: GPL-3.0-or-later
# PARLEY_SANITIZE=address → AddressSanitizer + UndefinedBehaviorSanitizer;
# PARLEY_SANITIZE=thread → ThreadSanitizer. Applied to every target.
if(PARLEY_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(PARLEY_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
elseif(NOT PARLEY_SANITIZE STREQUAL "")
  message(FATAL_ERROR "PARLEY_SANITIZE must be '', 'address' or 'thread'")
endif()
