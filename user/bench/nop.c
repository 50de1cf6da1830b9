/* bench-nop: the program bench forkexec executes. */
int main(void)
{
    return 0;
}
