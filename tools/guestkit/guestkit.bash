# bash completion for guestkit: verbs, options, pool and volume names.
_guestkit ()
{
  local cur prev words cword verb i pool
  _init_completion || return

  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      --state-dir|--pool|--newpool|--format|--allocation|--backing-vol*|--name|--type|--source-*|--target|--auth-*|--secret-usage|--initiator|--thin-pool) ((i++)) ;;
      -*) ;;
      *) verb="${words[i]}"; break ;;
    esac
  done

  case "$prev" in
    --pool|--newpool)
      COMPREPLY=($(compgen -W "$(guestkit pool-list --all --name-only 2>/dev/null)" -- "$cur"))
      return ;;
    --type)
      COMPREPLY=($(compgen -W "dir lvm logical iscsi rbd" -- "$cur"))
      return ;;
    --format)
      COMPREPLY=($(compgen -W "raw qcow2" -- "$cur"))
      return ;;
    --state-dir|--target)
      _filedir -d
      return ;;
  esac

  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(guestkit --long-options 2>/dev/null)" -- "$cur"))
    return
  fi
  if [ -z "$verb" ]; then
    COMPREPLY=($(compgen -W "$(guestkit --verbs 2>/dev/null)" -- "$cur"))
    return
  fi
  case "$verb" in
    pool-define|vol-upload|vol-download|vol-create)
      _filedir ;;
    pool-*)
      COMPREPLY=($(compgen -W "$(guestkit pool-list --all --name-only 2>/dev/null)" -- "$cur")) ;;
    vol-list|vol-create-as)
      COMPREPLY=($(compgen -W "$(guestkit pool-list --name-only 2>/dev/null)" -- "$cur")) ;;
    vol-*)
      pool=
      for ((i = 1; i < cword; i++)); do
        [ "${words[i]}" = --pool ] && pool="${words[i+1]}"
      done
      [ -n "$pool" ] &&
        COMPREPLY=($(compgen -W "$(guestkit vol-list "$pool" --name-only 2>/dev/null)" -- "$cur")) ;;
  esac
} &&
complete -F _guestkit guestkit
