# nestbox_guest(NAME BITS OUTDIR SOURCES...) — build a Multiboot test guest
# with the host gcc (freestanding, no sanitizers), linked at 1 MiB with
# tests/guest/lib. 64-bit guests are linked as ELF64 and converted to
# elf32-i386 (as kvm-unit-tests does) so any Multiboot loader takes them.
# Sets ${NAME}_ELF in the caller's scope.
set(GUEST_LIB_DIR ${CMAKE_SOURCE_DIR}/tests/guest/lib)
find_program(GUEST_CC NAMES gcc cc REQUIRED)
find_program(GUEST_LD NAMES ld REQUIRED)
find_program(GUEST_OBJCOPY NAMES objcopy REQUIRED)

# Every header of the guest library and the tests: a change rebuilds guests.
file(GLOB GUEST_HEADERS CONFIGURE_DEPENDS ${GUEST_LIB_DIR}/*.h ${CMAKE_SOURCE_DIR}/tests/guest/*.h)

function(nestbox_guest name bits outdir)
  set(srcs ${ARGN} ${GUEST_LIB_DIR}/guest.c ${GUEST_LIB_DIR}/boot.S ${GUEST_LIB_DIR}/trap.c
           ${GUEST_LIB_DIR}/isr.S)
  if(bits EQUAL 64)
    set(cflags -m64 -mno-red-zone -mcmodel=kernel -fno-pie -mgeneral-regs-only)
    set(ldemu elf_x86_64)
  else()
    set(cflags -m32 -fno-pie -mgeneral-regs-only)
    set(ldemu elf_i386)
  endif()
  # Tests that use x87/SSE say so with a _fp in their name.
  if(name MATCHES "_fp|demo|bench")
    list(REMOVE_ITEM cflags -mgeneral-regs-only)
    if(bits EQUAL 64)
      list(APPEND cflags -msse2)
    endif()
  endif()
  set(objs)
  foreach(src ${srcs})
    get_filename_component(base ${src} NAME)
    set(obj ${outdir}/${name}.dir/${base}.o)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${outdir}/${name}.dir
      COMMAND ${GUEST_CC} ${cflags} -DGUEST_BITS=${bits} -O2 -ffreestanding -fno-stack-protector
              -fno-asynchronous-unwind-tables -fcf-protection=none -nostdinc
              -isystem ${GUEST_LIB_DIR}/include
              -I${GUEST_LIB_DIR} -I${CMAKE_SOURCE_DIR}/tests/guest -Wall -Werror -c ${src} -o ${obj}
      DEPENDS ${src} ${GUEST_LIB_DIR}/guest.h ${GUEST_HEADERS} ${GUEST_LIB_DIR}/trap.h
      VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  execute_process(COMMAND ${GUEST_CC} ${cflags} -print-libgcc-file-name
                  OUTPUT_VARIABLE libgcc OUTPUT_STRIP_TRAILING_WHITESPACE)
  set(elf ${outdir}/${name}.elf)
  add_custom_command(OUTPUT ${elf}
    COMMAND ${GUEST_LD} -m ${ldemu} -nostdlib -z noexecstack --no-warn-rwx-segments
            -T ${GUEST_LIB_DIR}/guest.ld -o ${elf}.tmp ${objs} ${libgcc}
    COMMAND ${GUEST_OBJCOPY} -O elf32-i386 ${elf}.tmp ${elf}
    DEPENDS ${objs} ${GUEST_LIB_DIR}/guest.ld
    VERBATIM)
  add_custom_target(guest_${name} ALL DEPENDS ${elf})
  set(${name}_ELF ${elf} PARENT_SCOPE)
endfunction()
